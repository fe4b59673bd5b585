#include "policy/conditions_parse.h"

#include <re2/re2.h>
#include <re2/set.h>

#include "util/strings.h"

namespace mailmoat::policy {

namespace {

RE2::Options short_options() {
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  return o;
}

// A string or an array of strings, as a list; nullopt when it is neither.
std::optional<std::vector<std::string>> string_list(const toml::node& n) {
  if (auto s = n.value<std::string>()) return std::vector<std::string>{*s};
  const toml::array* a = n.as_array();
  if (!a || a->empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return std::nullopt;
    out.push_back(*s);
  }
  return out;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A word matches whole words only, case-insensitively; \b only where the word
// itself starts or ends with a word character (so "$$$" can still match).
std::string word_pattern(const std::string& word) {
  std::string p = RE2::QuoteMeta(word);
  if (is_word_char(word.front())) p = "\\b" + p;
  if (is_word_char(word.back())) p += "\\b";
  return p;
}

bool valid_header_name(std::string_view n) {
  if (n.empty() || n.size() > 200) return false;
  for (char c : n)
    if (c <= 32 || c >= 127 || c == ':') return false;
  return true;
}

bool valid_address(std::string_view a) {
  if (a.size() < 3 || a.size() > 254 || a.find('@') == std::string_view::npos || a.front() == '@' || a.back() == '@')
    return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= 32 || c == '<' || c == '>' || c == ',' || c == '"' || c == 127) return false;
  return true;
}

bool no_line_breaks(std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; }

const std::vector<std::string> kMessageTypes = {"auto_reply", "auto_forward", "calendar", "signed",
                                                "encrypted", "read_receipt", "bounce"};

}  // namespace

bool Compiler::string_matcher(const toml::node& value, Condition& c, std::string& problem) {
  auto add_is = [&](const std::vector<std::string>& list) {
    for (const auto& v : list) c.strings.is.push_back(util::to_lower(v));
  };
  if (auto list = string_list(value)) {
    add_is(*list);
    c.description += " is " + util::to_lower((*list)[0]) + (list->size() > 1 ? ", ..." : "");
    return true;
  }
  const toml::table* t = value.as_table();
  if (!t) {
    problem = "expected an address/domain, a list of them, or a table {is, glob, regex, ...}";
    return false;
  }
  for (auto&& [key, v] : *t) {
    const std::string k(key.str());
    if (k == "source" || k == "scope") continue;
    auto list = string_list(v);
    if (!list) {
      problem = k + ": a string or a non-empty list of strings is required";
      return false;
    }
    if (k == "is") add_is(*list);
    else if (k == "glob")
      for (const auto& g : *list) c.strings.glob.push_back(util::to_lower(g));
    else if (k == "regex")
      for (const auto& r : *list) {
        auto re = std::make_shared<const RE2>(r, short_options());
        if (!re->ok()) {
          problem = "invalid regex '" + r + "': " + re->error();
          return false;
        }
        c.strings.regex.push_back(std::move(re));
      }
    else {
      problem = "unknown key '" + k + "' (is, glob, regex, source or scope)";
      return false;
    }
  }
  if (c.strings.is.empty() && c.strings.glob.empty() && c.strings.regex.empty()) {
    problem = "nothing to match: give is, glob or regex";
    return false;
  }
  if (auto s = t->get("source")) {
    auto v = s->value<std::string>();
    if (v == "header") c.source = AddressSource::header;
    else if (v == "envelope") c.source = AddressSource::envelope;
    else if (v == "either") c.source = AddressSource::either;
    else {
      problem = "source: \"header\", \"envelope\" or \"either\"";
      return false;
    }
  }
  if (auto s = t->get("scope")) {
    auto v = s->value<std::string>();
    if (v == "any") c.scope = RecipientScope::any;
    else if (v == "all") c.scope = RecipientScope::all;
    else {
      problem = "scope: \"any\" or \"all\"";
      return false;
    }
  }
  return true;
}

bool Compiler::text_patterns(const toml::node& value, const std::vector<std::string>& targets, Condition& c,
                             std::string& problem) {
  const toml::table* t = value.as_table();
  std::vector<std::string> regex, description;
  auto take_words = [&](const toml::node& n) {
    auto list = string_list(n);
    if (!list) return false;
    for (const auto& w : *list) {
      if (w.empty()) return false;
      regex.push_back(word_pattern(w));
      description.push_back("word \"" + w + "\"");
    }
    return true;
  };
  if (!t) {
    if (!take_words(value)) {
      problem = "expected a word list or a table {words = [...], regex = [...]}";
      return false;
    }
  } else {
    for (auto&& [key, v] : *t) {
      const std::string k(key.str());
      if (k == "name") continue;
      if (k == "words") {
        if (!take_words(v)) {
          problem = "words: a non-empty list of non-empty strings is required";
          return false;
        }
      } else if (k == "regex") {
        auto list = string_list(v);
        if (!list) {
          problem = "regex: a string or a non-empty list of strings is required";
          return false;
        }
        for (const auto& r : *list) {
          RE2 probe(r, short_options());
          if (!probe.ok()) {
            problem = "invalid regex '" + r + "': " + probe.error();
            return false;
          }
          regex.push_back(r);
          description.push_back("regex /" + r + "/");
        }
      } else {
        problem = "unknown key '" + k + "' (words, regex" + std::string(c.kind == ConditionKind::header ? ", name" : "") + ")";
        return false;
      }
    }
  }
  if (regex.empty()) {
    problem = "nothing to match: give words or regex";
    return false;
  }
  for (const auto& target : targets) {
    Condition::TextRef ref{target, {}};
    auto& p = pending_[target];
    for (std::size_t i = 0; i < regex.size(); ++i) {
      ref.ids.push_back(static_cast<int>(p.regex.size()));
      // Header texts hold one field per line: ^ and $ anchor at each field.
      p.regex.push_back(target.starts_with("header:") ? "(?m)" + regex[i] : regex[i]);
      p.description.push_back(description[i]);
    }
    c.texts.push_back(std::move(ref));
  }
  c.description += " contains " + description[0] + (description.size() > 1 ? ", ..." : "");
  return true;
}

std::string Compiler::finish(std::map<std::string, TextPatterns>& texts) {
  for (auto& [target, p] : pending_) {
    RE2::Options o = short_options();
    o.set_max_mem(256 << 20);  // a thousand rules' patterns fit; the default 8 MB does not
    auto set = std::make_shared<RE2::Set>(o, RE2::UNANCHORED);
    for (const auto& r : p.regex) {
      std::string err;
      if (set->Add(r, &err) < 0) return "pattern '" + r + "' for " + target + ": " + err;
    }
    if (!set->Compile()) return "the patterns for " + target + " do not fit in memory";
    texts[target] = TextPatterns{std::move(p.description), std::move(set)};
  }
  return {};
}

std::optional<Condition> Compiler::condition(const std::string& name, const toml::node& value, std::string& problem) {
  static const std::map<std::string, ConditionKind> kinds = {
      {"sender_address", ConditionKind::sender_address}, {"sender_domain", ConditionKind::sender_domain},
      {"sender_scope", ConditionKind::sender_scope}, {"recipient_address", ConditionKind::recipient_address},
      {"recipient_domain", ConditionKind::recipient_domain}, {"sender_ip", ConditionKind::sender_ip},
      {"header", ConditionKind::header}, {"subject", ConditionKind::subject}, {"body", ConditionKind::body},
      {"subject_or_body", ConditionKind::subject_or_body}, {"size_at_least", ConditionKind::size_at_least},
      {"scl_at_least", ConditionKind::scl_at_least}, {"scl_at_most", ConditionKind::scl_at_most},
      {"spf", ConditionKind::spf}, {"dkim", ConditionKind::dkim}, {"dmarc", ConditionKind::dmarc},
      {"arc", ConditionKind::arc}, {"compauth", ConditionKind::compauth}, {"dmarc_policy", ConditionKind::dmarc_policy},
      {"tls", ConditionKind::tls}, {"direction", ConditionKind::direction}, {"message_type", ConditionKind::message_type},
  };
  if (name.starts_with("attachment_") || name == "domain_secured" || name == "connector")
    return fact_condition(name, value, problem);
  auto it = kinds.find(name);
  if (it == kinds.end()) {
    problem = "unknown condition '" + name + "'";
    return std::nullopt;
  }
  Condition c;
  c.kind = it->second;
  c.description = name;
  switch (c.kind) {
    case ConditionKind::sender_address:
    case ConditionKind::sender_domain:
    case ConditionKind::recipient_address:
    case ConditionKind::recipient_domain:
      if (!string_matcher(value, c, problem)) return std::nullopt;
      return c;
    case ConditionKind::sender_scope: {
      auto v = value.value<std::string>();
      if (v != "internal" && v != "external") {
        problem = "sender_scope: \"internal\" or \"external\"";
        return std::nullopt;
      }
      c.flag = *v == "internal";
      c.description += " is " + *v;
      return c;
    }
    case ConditionKind::sender_ip: {
      auto list = string_list(value);
      if (!list) {
        problem = "sender_ip: a network (CIDR) or a list of them";
        return std::nullopt;
      }
      for (const auto& n : *list) {
        auto net = util::parse_network(n);
        if (!net) {
          problem = "sender_ip: " + net.error().message;
          return std::nullopt;
        }
        c.networks.push_back(*net);
      }
      c.description += " in " + (*list)[0] + (list->size() > 1 ? ", ..." : "");
      return c;
    }
    case ConditionKind::header: {
      std::string header = "*";
      if (const toml::table* t = value.as_table())
        if (auto n = t->get("name")) {
          auto s = n->value<std::string>();
          if (!s || !valid_header_name(*s)) {
            problem = "header: name must be a header field name";
            return std::nullopt;
          }
          header = *s;
        }
      c.description = header == "*" ? "any header" : "header " + header;
      if (!text_patterns(value, {"header:" + util::to_lower(header)}, c, problem)) return std::nullopt;
      return c;
    }
    case ConditionKind::subject:
    case ConditionKind::body:
    case ConditionKind::subject_or_body: {
      std::vector<std::string> targets;
      if (c.kind != ConditionKind::body) targets.push_back("subject");
      if (c.kind != ConditionKind::subject) targets.push_back("body");
      if (!text_patterns(value, targets, c, problem)) return std::nullopt;
      return c;
    }
    case ConditionKind::size_at_least:
    case ConditionKind::scl_at_least:
    case ConditionKind::scl_at_most: {
      auto n = value.value<std::int64_t>();
      bool scl = c.kind != ConditionKind::size_at_least;
      if (!n || (scl && (*n < -1 || *n > 9)) || (!scl && *n < 0)) {
        problem = name + (scl ? ": an integer from -1 to 9" : ": a size in bytes (integer)");
        return std::nullopt;
      }
      c.number = *n;
      c.description += " " + std::to_string(*n);
      return c;
    }
    case ConditionKind::tls: {
      auto b = value.value<bool>();
      if (!b) {
        problem = "tls: true or false";
        return std::nullopt;
      }
      c.flag = *b;
      c.description += *b ? " used" : " not used";
      return c;
    }
    default: break;
  }
  // Word-valued conditions: authentication results, DMARC policy, direction, message type.
  auto list = string_list(value);
  if (!list) {
    problem = name + ": a word or a list of words";
    return std::nullopt;
  }
  static const std::map<ConditionKind, std::vector<std::string>> allowed = {
      {ConditionKind::spf, {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}},
      {ConditionKind::dkim, {"pass", "fail", "policy", "neutral", "none", "temperror", "permerror"}},
      {ConditionKind::dmarc, {"pass", "fail", "bestguesspass", "none", "temperror", "permerror"}},
      {ConditionKind::arc, {"pass", "fail", "none"}},
      {ConditionKind::compauth, {"pass", "fail", "softpass", "none"}},
      {ConditionKind::dmarc_policy, {"none", "quarantine", "reject"}},
      {ConditionKind::direction, {"inbound", "outbound", "internal"}},
      {ConditionKind::message_type, kMessageTypes},
  };
  const auto& words = allowed.at(c.kind);
  for (const auto& w : *list) {
    std::string lw = util::to_lower(w);
    if (std::find(words.begin(), words.end(), lw) == words.end()) {
      std::string all;
      for (const auto& x : words) all += (all.empty() ? "" : ", ") + x;
      problem = name + ": '" + w + "' is not one of " + all;
      return std::nullopt;
    }
    c.words.push_back(lw);
  }
  c.description += " is " + (*list)[0];
  for (std::size_t i = 1; i < list->size(); ++i) c.description += "|" + (*list)[i];
  return c;
}

std::optional<Action> Compiler::action(const std::string& name, const toml::node& value, std::string& problem) {
  static const std::map<std::string, ActionKind> kinds = {
      {"reject", ActionKind::reject}, {"quarantine", ActionKind::quarantine}, {"redirect", ActionKind::redirect},
      {"add_to", ActionKind::add_to}, {"add_cc", ActionKind::add_cc}, {"add_bcc", ActionKind::add_bcc},
      {"delete", ActionKind::delete_message}, {"set_header", ActionKind::set_header},
      {"remove_header", ActionKind::remove_header}, {"prepend_subject", ActionKind::prepend_subject},
      {"set_scl", ActionKind::set_scl},
  };
  if (name == "require_tls" || name == "route" || name == "hold" || name == "notify")
    return delivery_action(name, value, problem);
  if (name == "disclaimer") return disclaimer_action(value, problem);
  auto it = kinds.find(name);
  if (it == kinds.end()) {
    problem = "unknown action '" + name + "'";
    return std::nullopt;
  }
  Action a;
  a.kind = it->second;
  switch (a.kind) {
    case ActionKind::reject: {
      a.text = "Delivery not authorized, message refused";
      if (value.value<bool>() == true) return a;
      const toml::table* t = value.as_table();
      if (!t) {
        problem = "reject: true, or a table {status = \"5.7.9xx\", text = \"...\"}";
        return std::nullopt;
      }
      for (auto&& [key, v] : *t) {
        const std::string k(key.str());
        auto s = v.value<std::string>();
        if (k == "status" && s) {
          // Exchange's custom range: 5.7.1 or 5.7.900-5.7.999.
          bool custom = s->size() == 7 && s->starts_with("5.7.9") && std::isdigit((unsigned char)(*s)[5]) &&
                        std::isdigit((unsigned char)(*s)[6]);
          if (*s != "5.7.1" && !custom) {
            problem = "reject: status must be 5.7.1 or 5.7.900 to 5.7.999";
            return std::nullopt;
          }
          a.enhanced = *s;
        } else if (k == "text" && s && !s->empty() && s->size() <= 400 && no_line_breaks(*s)) {
          a.text = *s;
        } else {
          problem = "reject: only status (5.7.1, 5.7.900-5.7.999) and text (one line) are allowed";
          return std::nullopt;
        }
      }
      return a;
    }
    case ActionKind::quarantine:
    case ActionKind::delete_message:
      if (value.value<bool>() != true) {
        problem = name + " = true";
        return std::nullopt;
      }
      return a;
    case ActionKind::redirect:
    case ActionKind::add_to:
    case ActionKind::add_cc:
    case ActionKind::add_bcc: {
      auto list = string_list(value);
      if (!list) {
        problem = name + ": an address or a list of addresses";
        return std::nullopt;
      }
      for (const auto& addr : *list) {
        if (!valid_address(addr)) {
          problem = name + ": '" + addr + "' is not an address";
          return std::nullopt;
        }
        a.addresses.push_back(addr);
      }
      return a;
    }
    case ActionKind::set_header: {
      const toml::table* t = value.as_table();
      auto n = t ? t->get("name") : nullptr;
      auto v = t ? t->get("value") : nullptr;
      auto ns = n ? n->value<std::string>() : std::nullopt;
      auto vs = v ? v->value<std::string>() : std::nullopt;
      if (!t || t->size() != 2 || !ns || !vs || !valid_header_name(*ns) || !no_line_breaks(*vs)) {
        problem = "set_header: {name = \"X-Name\", value = \"one line\"}";
        return std::nullopt;
      }
      a.name = *ns;
      a.text = *vs;
      return a;
    }
    case ActionKind::remove_header: {
      auto s = value.value<std::string>();
      if (!s || !valid_header_name(*s)) {
        problem = "remove_header: a header field name";
        return std::nullopt;
      }
      a.name = *s;
      return a;
    }
    case ActionKind::prepend_subject: {
      auto s = value.value<std::string>();
      if (!s || s->empty() || !no_line_breaks(*s)) {
        problem = "prepend_subject: a one-line string";
        return std::nullopt;
      }
      a.text = *s;
      return a;
    }
    case ActionKind::set_scl: {
      auto n = value.value<std::int64_t>();
      if (!n || *n < -1 || *n > 9) {
        problem = "set_scl: an integer from -1 to 9";
        return std::nullopt;
      }
      a.scl = static_cast<int>(*n);
      return a;
    }
    case ActionKind::route:
    case ActionKind::require_tls:
    case ActionKind::hold:
    case ActionKind::notify:
    case ActionKind::disclaimer: break;  // delivery_action, disclaimer_action
  }
  return std::nullopt;
}

}  // namespace mailmoat::policy

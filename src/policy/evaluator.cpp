#include "policy/evaluator.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <map>

#include "util/strings.h"

namespace mailmoat::policy {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::deliver: return "deliver";
    case Outcome::reject: return "reject";
    case Outcome::quarantine: return "quarantine";
    case Outcome::discard: return "delete";
    case Outcome::tempfail: return "defer";
  }
  return "?";
}

namespace {

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::optional<std::string> StringMatcher::match(const std::string& value) const {
  for (const auto& s : is)
    if (value == s) return "is " + s;
  for (const auto& g : glob)
    if (glob_match(g, value)) return "glob " + g;
  for (const auto& r : regex)
    if (RE2::PartialMatch(value, *r)) return "regex /" + r->pattern() + "/";
  return std::nullopt;
}

namespace {

// Result of one condition: matched (with what matched), or could not be evaluated.
struct Test {
  bool matched = false;
  std::string evidence;
  std::string error;
};

class Evaluator {
 public:
  Evaluator(const RuleSet& rules, const MessageFacts& facts) : rules_(rules), f_(facts) {}

  Test test(const Condition& c) {
    switch (c.kind) {
      case ConditionKind::sender_address:
      case ConditionKind::sender_domain: return sender(c);
      case ConditionKind::sender_scope:
        return {f_.sender_internal == c.flag, f_.sender_internal ? "sender is internal" : "sender is external", {}};
      case ConditionKind::recipient_address:
      case ConditionKind::recipient_domain: return recipients(c);
      case ConditionKind::sender_ip:
        return util::any_contains(c.networks, f_.client_ip) ? Test{true, "client " + f_.client_ip, {}} : Test{};
      case ConditionKind::header:
      case ConditionKind::subject:
      case ConditionKind::body:
      case ConditionKind::subject_or_body: return text(c);
      case ConditionKind::size_at_least:
        return static_cast<std::int64_t>(f_.size) >= c.number ? Test{true, "size " + std::to_string(f_.size), {}}
                                                               : Test{};
      case ConditionKind::scl_at_least:
      case ConditionKind::scl_at_most: {
        int scl = f_.scl.value_or(0);
        bool ok = c.kind == ConditionKind::scl_at_least ? scl >= c.number : scl <= c.number;
        return ok ? Test{true, "SCL " + std::to_string(scl), {}} : Test{};
      }
      case ConditionKind::spf: return word(c, "spf", f_.auth.spf);
      case ConditionKind::dkim: return word(c, "dkim", f_.auth.dkim);
      case ConditionKind::dmarc: return word(c, "dmarc", f_.auth.dmarc);
      case ConditionKind::arc: return word(c, "arc", f_.auth.arc);
      case ConditionKind::compauth: return word(c, "compauth", f_.auth.compauth);
      case ConditionKind::dmarc_policy: return word(c, "DMARC policy", f_.auth.dmarc_policy);
      case ConditionKind::tls: return {f_.tls == c.flag, f_.tls ? "TLS was used" : "no TLS", {}};
      case ConditionKind::direction: return word(c, "direction", f_.direction);
      case ConditionKind::connector:
        if (auto why = c.strings.match(util::to_lower(f_.connector)); why && !f_.connector.empty())
          return {true, "partner connector " + f_.connector + " " + *why, {}};
        return {};
      case ConditionKind::domain_secured:
        return {f_.domain_secured == c.flag,
                f_.domain_secured ? "domain secured by connector " + f_.connector : "not domain-secured", {}};
      case ConditionKind::attachment_name:
      case ConditionKind::attachment_extension:
      case ConditionKind::attachment_type:
      case ConditionKind::attachment_size_at_least:
      case ConditionKind::attachment_executable:
      case ConditionKind::attachment_password_protected:
      case ConditionKind::attachment_scan_incomplete:
      case ConditionKind::attachment_verdict: return attachment(c);
      case ConditionKind::attachment_contains: return attachment_text(c);
      case ConditionKind::message_type:
        for (const auto& t : f_.message_types)
          for (const auto& w : c.words)
            if (t == w) return {true, "message is " + t, {}};
        return {};
    }
    return {};
  }

 private:
  const RuleSet& rules_;
  const MessageFacts& f_;
  // Keyed by the text's pattern set (one per target): no key strings to allocate per message.
  std::map<const TextPatterns*, std::vector<int>> text_hits_;
  std::map<const TextPatterns*, std::string> text_errors_;

  // Domains of the addresses, computed once per message rather than per condition.
  std::map<const std::string*, std::string> domains_;
  // Callers pass the message's addresses, which outlive the answer.
  const std::string& part(const Condition& c, const std::string& address) {
    bool domain = c.kind == ConditionKind::sender_domain || c.kind == ConditionKind::recipient_domain;
    if (!domain) return address;  // NOLINT(bugprone-return-const-ref-from-parameter)
    auto it = domains_.find(&address);
    if (it == domains_.end()) it = domains_.emplace(&address, domain_of(address)).first;
    return it->second;
  }

  Test sender(const Condition& c) {
    const std::pair<const char*, const std::string*> tried[] = {{"envelope sender", &f_.envelope_sender},
                                                                 {"From", &f_.header_from}};
    for (const auto& [label, addr] : tried) {
      if (addr->empty()) continue;
      if (addr == &f_.envelope_sender ? c.source == AddressSource::header : c.source == AddressSource::envelope)
        continue;
      if (auto why = c.strings.match(part(c, *addr))) return {true, std::string(label) + " " + *addr + " " + *why, {}};
    }
    return {};
  }

  Test recipients(const Condition& c) {
    std::string first;
    std::size_t hits = 0;
    for (const auto& r : f_.envelope_recipients)
      if (auto why = c.strings.match(part(c, r))) {
        ++hits;
        if (first.empty()) first = "recipient " + r + " " + *why;
      }
    bool ok = c.scope == RecipientScope::any ? hits > 0 : hits > 0 && hits == f_.envelope_recipients.size();
    return {ok, c.scope == RecipientScope::all ? "all recipients: " + first : first, {}};
  }

  // Matches when any attachment has the fact; the evidence names it.
  Test attachment(const Condition& c) {
    for (const auto& a : f_.attachments) {
      std::string label = "attachment " + (a.name.empty() ? "(unnamed " + a.true_type + ")" : a.name);
      std::optional<std::string> why;
      switch (c.kind) {
        case ConditionKind::attachment_name: why = c.strings.match(util::to_lower(a.name)); break;
        case ConditionKind::attachment_extension: why = c.strings.match(a.extension); break;
        case ConditionKind::attachment_type: why = c.strings.match(util::to_lower(a.true_type)); break;
        case ConditionKind::attachment_size_at_least:
          if (static_cast<std::int64_t>(a.size) >= c.number) why = "size " + std::to_string(a.size);
          break;
        case ConditionKind::attachment_executable:
          if (a.executable) why = "is executable (" + a.true_type + ")";
          break;
        case ConditionKind::attachment_password_protected:
          if (a.password_protected) why = "is password protected";
          break;
        case ConditionKind::attachment_scan_incomplete:
          if (a.scan_incomplete) why = "scan incomplete";
          break;
        case ConditionKind::attachment_verdict:
          for (const auto& w : c.words)
            if (util::to_lower(a.verdict) == w) why = "verdict " + w;
          break;
        default: break;
      }
      if (why) return {true, label + " " + *why, {}};
    }
    return {};
  }

  Test word(const Condition& c, const char* label, const std::string& value) {
    std::string v = util::to_lower(value);
    for (const auto& w : c.words)
      if (v == w) return {true, std::string(label) + "=" + v, {}};
    return {};
  }

  // Header texts are built here; subject and body are scanned in place (no copy of the body).
  std::string header_text(const std::string& target) const {
    std::string_view name = std::string_view(target).substr(7);  // "header:"
    std::string out;
    for (const auto& [n, v] : f_.headers) {
      if (name == "*") out.append(n).append(": ");
      else if (!util::iequals(n, name)) continue;
      out.append(v).push_back('\n');
    }
    return out;
  }

  // Scans a text once with its whole set; later conditions on it reuse the hits.
  const std::vector<int>* hits(const std::string& target, const TextPatterns& patterns, std::string& error) {
    if (auto e = text_errors_.find(&patterns); e != text_errors_.end()) {
      error = e->second;
      return nullptr;
    }
    if (auto h = text_hits_.find(&patterns); h != text_hits_.end()) return &h->second;
    if (target == "body" && !f_.body_problem.empty()) {
      error = text_errors_[&patterns] = "body not evaluated: " + f_.body_problem;
      return nullptr;
    }
    std::vector<int> v;
    RE2::Set::ErrorInfo info{};
    std::string built;
    const std::string& text = target == "subject" ? f_.subject : target == "body" ? f_.body : (built = header_text(target));
    if (!patterns.set->Match(text, &v, &info) && info.kind != RE2::Set::kNoError) {
      error = text_errors_[&patterns] = target + " not evaluated: the pattern engine ran out of memory";
      return nullptr;
    }
    return &(text_hits_[&patterns] = std::move(v));
  }

  // The patterns over each attachment's text, matched once per attachment.
  std::vector<std::vector<int>> attachment_hits_;
  std::string attachment_error_;

  Test attachment_text(const Condition& c) {
    for (const auto& ref : c.texts) {
      const TextPatterns& patterns = rules_.texts.at(ref.target);
      if (attachment_hits_.empty() && attachment_error_.empty()) {
        for (const auto& a : f_.attachments) {
          std::vector<int> v;
          RE2::Set::ErrorInfo info{};
          if (!a.text.empty() && !patterns.set->Match(a.text, &v, &info) && info.kind != RE2::Set::kNoError)
            attachment_error_ = "attachment text not evaluated: the pattern engine ran out of memory";
          attachment_hits_.push_back(std::move(v));
        }
      }
      if (!attachment_error_.empty()) return {false, {}, attachment_error_};
      for (std::size_t i = 0; i < f_.attachments.size(); ++i)
        for (int id : ref.ids)
          if (std::find(attachment_hits_[i].begin(), attachment_hits_[i].end(), id) != attachment_hits_[i].end()) {
            const auto& a = f_.attachments[i];
            return {true,
                    "attachment " + (a.name.empty() ? "(unnamed " + a.true_type + ")" : a.name) + " has " +
                        patterns.patterns[id],
                    {}};
          }
    }
    return {};
  }

  Test text(const Condition& c) {
    Test result;
    for (const auto& ref : c.texts) {
      std::string error;
      const TextPatterns& patterns = rules_.texts.at(ref.target);
      const auto* h = hits(ref.target, patterns, error);
      if (!h) {
        result.error = error;
        continue;
      }
      for (int id : ref.ids)
        if (std::find(h->begin(), h->end(), id) != h->end())
          return {true, ref.target + " has " + patterns.patterns[id], {}};
    }
    return result;
  }
};

std::string describe_action(const Action& a) {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  switch (a.kind) {
    case ActionKind::reject: return "reject 550 " + a.enhanced + " " + a.text;
    case ActionKind::quarantine: return "quarantine";
    case ActionKind::redirect: return "redirect to " + join(a.addresses);
    case ActionKind::add_to: return "add To " + join(a.addresses);
    case ActionKind::add_cc: return "add Cc " + join(a.addresses);
    case ActionKind::add_bcc: return "add Bcc " + join(a.addresses);
    case ActionKind::delete_message: return "delete silently";
    case ActionKind::set_header: return "set header " + a.name + ": " + a.text;
    case ActionKind::remove_header: return "remove header " + a.name;
    case ActionKind::prepend_subject: return "prepend subject \"" + a.text + "\"";
    case ActionKind::set_scl: return "set SCL " + std::to_string(a.scl);
    case ActionKind::route: return "route through '" + a.name + "'";
    case ActionKind::require_tls: return "require verified TLS for delivery";
    case ActionKind::hold: return "hold for " + std::to_string(a.minutes) + " minutes";
    case ActionKind::notify: return "notify " + join(a.addresses) + " (\"" + a.subject + "\")";
    case ActionKind::disclaimer:
      return std::string(a.disclaimer.prepend ? "prepend" : "append") + " disclaimer (fallback " +
             to_string(a.disclaimer.fallback) + ")";
  }
  return "?";
}

// Folds one action into the decision; true when it ends rule processing.
bool apply(const Action& a, const Rule& rule, Decision& d) {
  switch (a.kind) {
    case ActionKind::reject:
      d.outcome = Outcome::reject;
      d.enhanced = a.enhanced;
      d.text = a.text;
      d.decided_by = rule.name;
      return true;
    case ActionKind::delete_message:
      d.outcome = Outcome::discard;
      d.decided_by = rule.name;
      return true;
    case ActionKind::quarantine:
      if (d.outcome == Outcome::deliver) {
        d.outcome = Outcome::quarantine;
        d.decided_by = rule.name;
      }
      return false;
    case ActionKind::redirect: d.redirect = a.addresses; return false;
    case ActionKind::add_to: d.add_to.insert(d.add_to.end(), a.addresses.begin(), a.addresses.end()); return false;
    case ActionKind::add_cc: d.add_cc.insert(d.add_cc.end(), a.addresses.begin(), a.addresses.end()); return false;
    case ActionKind::add_bcc: d.add_bcc.insert(d.add_bcc.end(), a.addresses.begin(), a.addresses.end()); return false;
    case ActionKind::set_header: d.headers.push_back({false, a.name, a.text}); return false;
    case ActionKind::remove_header: d.headers.push_back({true, a.name, {}}); return false;
    case ActionKind::prepend_subject: d.subject_prefix = a.text + d.subject_prefix; return false;
    case ActionKind::set_scl: d.scl = a.scl; return false;
    case ActionKind::route: d.route = a.name; return false;  // a later rule's route replaces an earlier one
    case ActionKind::require_tls: d.require_tls = true; return false;
    case ActionKind::hold:
      if (a.minutes > d.hold_minutes) {
        d.hold_minutes = a.minutes;
        d.hold_by = rule.name;
      }
      return false;
    case ActionKind::notify: d.notices.push_back({rule.name, a.addresses, a.subject, a.text}); return false;
    case ActionKind::disclaimer:
      if (!d.disclaimer) {  // once per message: the first rule's wins (evaluate() traces the others)
        d.disclaimer = a.disclaimer;
        d.disclaimer_by = rule.name;
      }
      return false;
  }
  return false;
}

}  // namespace

std::string Action::describe() const { return describe_action(*this); }

Evaluation evaluate(const RuleSet& rules, const MessageFacts& facts, std::int64_t now, Pass pass) {
  Evaluation out;
  Evaluator ev(rules, facts);
  for (const Rule& rule : rules.rules) {
    if (!rule.enabled) continue;
    if ((pass == Pass::content && rule.needs_attachments) || (pass == Pass::attachments && !rule.needs_attachments))
      continue;
    if ((rule.active_from && now < *rule.active_from) || (rule.active_until && now >= *rule.active_until)) {
      out.notes.push_back("rule '" + rule.name + "' not active at this time");
      continue;
    }
    RuleMatch m;  // filled in only for a rule that applies
    bool matches = true, failed = false;
    for (const auto& c : rule.conditions) {
      Test t = ev.test(c);
      if (!t.error.empty()) {
        out.notes.push_back("rule '" + rule.name + "': " + c.description + ": " + t.error);
        failed = true;
      }
      if (!t.matched) {
        matches = false;
        break;
      }
      m.because.push_back(c.description + " (" + t.evidence + ")");
    }
    for (const auto& c : rule.exceptions) {
      if (!matches) break;
      Test t = ev.test(c);
      if (!t.error.empty()) {
        out.notes.push_back("rule '" + rule.name + "': exception " + c.description + ": " + t.error);
        failed = true;
      }
      if (t.matched) {
        out.notes.push_back("rule '" + rule.name + "' skipped by exception " + c.description + " (" + t.evidence + ")");
        matches = false;
      }
    }
    if (failed && rule.defer_on_error && !rule.audit) {
      out.decision.outcome = Outcome::tempfail;
      out.decision.enhanced = "4.7.0";
      out.decision.text = "Rule processing did not complete, try again later";
      out.decision.decided_by = rule.name;
      return out;
    }
    if (!matches) continue;
    m.rule = rule.name;
    m.priority = rule.priority;
    m.audit = rule.audit;
    if (rule.conditions.empty()) m.because.push_back("no conditions (applies to every message)");
    bool ends = false;
    for (const auto& a : rule.actions) {
      m.actions.push_back(a.describe());
      if (a.kind == ActionKind::disclaimer && !rule.audit && out.decision.disclaimer)
        out.notes.push_back("rule '" + rule.name + "': disclaimer not added, rule '" + out.decision.disclaimer_by +
                            "' already adds one (once per message)");
      if (!rule.audit) ends |= apply(a, rule, out.decision);
    }
    m.stopped = rule.stop || ends;
    out.matched.push_back(std::move(m));
    if (out.matched.back().stopped) break;
  }
  return out;
}

const char* to_string(ConditionKind kind) {
  static const char* names[] = {"sender_address", "sender_domain", "sender_scope", "recipient_address",
                                "recipient_domain", "sender_ip", "header", "subject", "body", "subject_or_body",
                                "size_at_least", "scl_at_least", "scl_at_most", "spf", "dkim", "dmarc", "arc",
                                "compauth", "dmarc_policy", "tls", "direction", "message_type", "connector",
                                "domain_secured", "attachment_name", "attachment_extension", "attachment_type",
                                "attachment_size_at_least", "attachment_executable", "attachment_password_protected",
                                "attachment_scan_incomplete", "attachment_verdict", "attachment_contains"};
  return names[static_cast<int>(kind)];
}

const char* to_string(ActionKind kind) {
  static const char* names[] = {"reject", "quarantine", "redirect", "add_to", "add_cc", "add_bcc", "delete",
                                "set_header", "remove_header", "prepend_subject", "set_scl", "route", "require_tls",
                                "hold", "notify", "disclaimer"};
  return names[static_cast<int>(kind)];
}

const char* to_string(DisclaimerFallback fallback) {
  switch (fallback) {
    case DisclaimerFallback::wrap: return "wrap";
    case DisclaimerFallback::ignore: return "ignore";
    case DisclaimerFallback::reject: return "reject";
  }
  return "?";
}

}  // namespace mailmoat::policy

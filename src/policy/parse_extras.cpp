// Conditions on facts other filters provide (the partner connector, Safe
// Attachments' per-file facts) and the actions that ask the queue for a way of
// delivery: a named route, verified TLS, a timed hold. Split from
// conditions_parse.cpp to keep both files readable.
#include <algorithm>

#include "policy/conditions_parse.h"
#include "util/strings.h"

namespace mailmoat::policy {

namespace {

std::optional<bool> flag_value(const toml::node& value) { return value.value<bool>(); }

bool valid_route_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// Every {placeholder} in a notification template must be one we fill in.
std::string template_problem(const std::string& text) {
  static const std::vector<std::string> known = {"rule", "sender", "recipients", "subject",
                                                 "message_id", "queue_id", "client_ip", "date"};
  for (std::size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    std::size_t close = text.find('}', open);
    if (close == std::string::npos) return "unclosed '{'";
    std::string name = text.substr(open + 1, close - open - 1);
    if (std::find(known.begin(), known.end(), name) == known.end())
      return "unknown placeholder {" + name + "} (rule, sender, recipients, subject, message_id, queue_id, client_ip, date)";
  }
  return {};
}

bool valid_notify_target(const std::string& t) {
  if (t == "sender" || t == "recipients") return true;
  std::size_t at = t.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == t.size() || t.size() > 254) return false;
  for (char c : t)
    if (static_cast<unsigned char>(c) <= 32 || c == '<' || c == '>' || c == ',' || c == '"' || c == 127) return false;
  return true;
}

std::optional<Action> notify_action(const toml::node& value, std::string& problem) {
  const char* usage = "notify: { to = \"sender\" | \"recipients\" | address(es), subject = \"...\", text = \"...\" }";
  const toml::table* t = value.as_table();
  if (!t) {
    problem = usage;
    return std::nullopt;
  }
  Action a;
  a.kind = ActionKind::notify;
  for (auto&& [key, v] : *t) {
    const std::string k(key.str());
    if (k == "to") {
      if (auto s = v.value<std::string>()) a.addresses.push_back(*s);
      else if (const toml::array* arr = v.as_array())
        for (const auto& e : *arr)
          if (auto s = e.value<std::string>()) a.addresses.push_back(*s);
    } else if (k == "subject" && v.value<std::string>()) {
      a.subject = *v.value<std::string>();
    } else if (k == "text" && v.value<std::string>()) {
      a.text = *v.value<std::string>();
    } else {
      problem = usage;
      return std::nullopt;
    }
  }
  if (a.addresses.empty() || a.subject.empty() || a.text.empty() || a.subject.find_first_of("\r\n") != std::string::npos) {
    problem = std::string(usage) + "; to, a one-line subject and text are required";
    return std::nullopt;
  }
  for (const auto& to : a.addresses)
    if (!valid_notify_target(to)) {
      problem = "notify: to: '" + to + "' is not an address, \"sender\" or \"recipients\"";
      return std::nullopt;
    }
  for (const std::string* tpl : {&a.subject, &a.text})
    if (auto p = template_problem(*tpl); !p.empty()) {
      problem = "notify: " + p;
      return std::nullopt;
    }
  return a;
}

}  // namespace

std::optional<Condition> Compiler::fact_condition(const std::string& name, const toml::node& value,
                                                  std::string& problem) {
  static const std::map<std::string, ConditionKind> kinds = {
      {"connector", ConditionKind::connector},
      {"domain_secured", ConditionKind::domain_secured},
      {"attachment_name", ConditionKind::attachment_name},
      {"attachment_extension", ConditionKind::attachment_extension},
      {"attachment_type", ConditionKind::attachment_type},
      {"attachment_size_at_least", ConditionKind::attachment_size_at_least},
      {"attachment_executable", ConditionKind::attachment_executable},
      {"attachment_password_protected", ConditionKind::attachment_password_protected},
      {"attachment_scan_incomplete", ConditionKind::attachment_scan_incomplete},
      {"attachment_verdict", ConditionKind::attachment_verdict},
      {"attachment_contains", ConditionKind::attachment_contains},
  };
  auto it = kinds.find(name);
  if (it == kinds.end()) {
    problem = "unknown condition '" + name + "'";
    return std::nullopt;
  }
  Condition c;
  c.kind = it->second;
  c.description = name;
  switch (c.kind) {
    case ConditionKind::connector:
    case ConditionKind::attachment_name:
    case ConditionKind::attachment_type:
      if (!string_matcher(value, c, problem)) return std::nullopt;
      return c;
    case ConditionKind::attachment_extension: {
      if (!string_matcher(value, c, problem)) return std::nullopt;
      // Written with or without the dot; facts hold the extension without it.
      for (auto& e : c.strings.is)
        if (e.starts_with('.')) e.erase(0, 1);
      for (auto& g : c.strings.glob)
        if (g.starts_with('.')) g.erase(0, 1);
      return c;
    }
    case ConditionKind::attachment_size_at_least: {
      auto n = value.value<std::int64_t>();
      if (!n || *n < 0) {
        problem = name + ": a size in bytes (integer)";
        return std::nullopt;
      }
      c.number = *n;
      c.description += " " + std::to_string(*n);
      return c;
    }
    case ConditionKind::domain_secured:
    case ConditionKind::attachment_executable:
    case ConditionKind::attachment_password_protected:
    case ConditionKind::attachment_scan_incomplete: {
      auto b = flag_value(value);
      if (!b || (c.kind != ConditionKind::domain_secured && !*b)) {
        problem = name + (c.kind == ConditionKind::domain_secured ? ": true or false" : " = true");
        return std::nullopt;
      }
      c.flag = *b;
      if (c.kind == ConditionKind::domain_secured) c.description += *b ? " is true" : " is false";
      return c;
    }
    case ConditionKind::attachment_contains:
      // All attachments' texts share one pattern set ("attachment"), matched per attachment.
      if (!text_patterns(value, {"attachment"}, c, problem)) return std::nullopt;
      return c;
    case ConditionKind::attachment_verdict: {
      // "pending": analysis goes on after queueing (the message is held; docs/attachments.md).
      static const std::vector<std::string> verdicts = {"clean", "suspicious", "malicious", "scan error", "pending"};
      std::vector<std::string> list;
      if (auto s = value.value<std::string>()) list.push_back(*s);
      else if (const toml::array* a = value.as_array())
        for (const auto& e : *a)
          if (auto s = e.value<std::string>()) list.push_back(*s);
      if (list.empty()) {
        problem = name + ": a verdict or a list of them (clean, suspicious, malicious, scan error)";
        return std::nullopt;
      }
      for (const auto& v : list) {
        std::string lv = util::to_lower(v);
        if (std::find(verdicts.begin(), verdicts.end(), lv) == verdicts.end()) {
          problem = name + ": '" + v + "' is not one of clean, suspicious, malicious, scan error, pending";
          return std::nullopt;
        }
        c.words.push_back(lv);
      }
      c.description += " is " + list[0] + (list.size() > 1 ? "|..." : "");
      return c;
    }
    default: break;
  }
  problem = "unknown condition '" + name + "'";
  return std::nullopt;
}

std::optional<Action> Compiler::delivery_action(const std::string& name, const toml::node& value,
                                                std::string& problem) {
  Action a;
  if (name == "route") {
    a.kind = ActionKind::route;
    auto s = value.value<std::string>();
    if (!s || !valid_route_name(*s)) {
      problem = "route: the name of a [[route]] in mailmoat.toml (letters, digits, '-', '_', '.')";
      return std::nullopt;
    }
    a.name = *s;
    return a;
  }
  if (name == "require_tls") {
    a.kind = ActionKind::require_tls;
    // Exchange's "require TLS encryption"; only the verifying level is offered,
    // since a rule that asks for TLS means an authenticated peer.
    if (value.value<bool>() != true && value.value<std::string>() != "verify") {
      problem = "require_tls: true or \"verify\"";
      return std::nullopt;
    }
    return a;
  }
  if (name == "notify") return notify_action(value, problem);
  a.kind = ActionKind::hold;
  const toml::table* t = value.as_table();
  auto m = t ? (t->get("minutes") ? t->get("minutes")->value<std::int64_t>() : std::nullopt) : std::nullopt;
  if (!t || t->size() != 1 || !m || *m < 1 || *m > 30L * 24 * 60) {
    problem = "hold: { minutes = N } with N from 1 to 43200 (30 days)";
    return std::nullopt;
  }
  a.minutes = *m;
  return a;
}

}  // namespace mailmoat::policy

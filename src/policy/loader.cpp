#include <algorithm>
#include "policy/loader.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "policy/conditions_parse.h"
#include "util/strings.h"

namespace mailmoat::policy {

std::string LoadError::to_string() const { return file + ":" + std::to_string(line) + ": " + message; }

namespace {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// A TOML date (midnight UTC) or offset date-time; anything else is an error.
std::optional<std::int64_t> unix_time(const toml::node& n) {
  if (const auto* d = n.as_date()) {
    const toml::date& v = d->get();
    return days_from_civil(v.year, v.month, v.day) * 86400;
  }
  if (const auto* dt = n.as_date_time()) {
    const toml::date_time& v = dt->get();
    std::int64_t t = days_from_civil(v.date.year, v.date.month, v.date.day) * 86400 +
                     std::int64_t{v.time.hour} * 3600 + std::int64_t{v.time.minute} * 60 + v.time.second;
    if (v.offset) t -= std::int64_t{v.offset->minutes} * 60;
    return t;
  }
  return std::nullopt;
}

struct Loader {
  std::string file;
  std::vector<LoadError> errors;
  RuleSet set;
  Compiler compiler;

  void error(const toml::node& at, std::string message) {
    errors.push_back({file, static_cast<int>(at.source().begin.line), std::move(message)});
  }

  void read_rule(const toml::table& t) {
    Rule r;
    r.line = static_cast<int>(t.source().begin.line);
    bool have_priority = false, have_actions = false;
    const std::size_t errors_before = errors.size();
    for (auto&& [key, node] : t) {
      const std::string k(key.str());
      if (k == "name") {
        if (auto s = node.value<std::string>(); s && !s->empty()) r.name = *s;
        else error(node, "name: a non-empty string is required");
      } else if (k == "priority") {
        auto p = node.value<std::int64_t>();
        if (!p || *p < 0 || *p > 1000000) error(node, "priority: an integer from 0 to 1000000 is required");
        else { r.priority = static_cast<int>(*p); have_priority = true; }
      } else if (k == "enabled" || k == "stop") {
        auto b = node.value<bool>();
        if (!b) error(node, k + ": true or false");
        else (k == "enabled" ? r.enabled : r.stop) = *b;
      } else if (k == "mode") {
        auto s = node.value<std::string>();
        if (s != "enforce" && s != "audit") error(node, "mode: \"enforce\" or \"audit\"");
        else r.audit = *s == "audit";
      } else if (k == "on_error") {
        auto s = node.value<std::string>();
        if (s != "ignore" && s != "defer") error(node, "on_error: \"ignore\" (treat as not matching) or \"defer\" (tempfail)");
        else r.defer_on_error = *s == "defer";
      } else if (k == "active_from" || k == "active_until") {
        auto when = unix_time(node);
        if (!when) error(node, k + ": a TOML date or date-time is required (e.g. 2026-12-01 or 2026-12-01T08:00:00Z, unquoted)");
        else (k == "active_from" ? r.active_from : r.active_until) = when;
      } else if (k == "conditions" || k == "exceptions" || k == "actions") {
        have_actions |= k == "actions";
        const toml::array* items = node.as_array();
        if (!items) { error(node, k + ": an array of tables is required ([[rule." + k + "]])"); continue; }
        for (const auto& item : *items) {
          const toml::table* it = item.as_table();
          if (!it || it->size() != 1) { error(item, k + ": each entry is a table with exactly one key"); continue; }
          auto entry = *it->begin();  // a proxy holding references: keep it alive
          auto&& [name, value] = entry;
          std::string problem;
          if (k == "actions") {
            auto a = compiler.action(std::string(name.str()), value, problem);
            if (a) { a->line = static_cast<int>(value.source().begin.line); r.actions.push_back(std::move(*a)); }
          } else {
            auto c = compiler.condition(std::string(name.str()), value, problem);
            if (c) {
              c->line = static_cast<int>(value.source().begin.line);
              r.needs_attachments |= is_attachment_condition(c->kind);
              (k == "conditions" ? r.conditions : r.exceptions).push_back(std::move(*c));
            }
          }
          if (!problem.empty()) error(value, problem);
        }
      } else {
        error(node, "unknown rule key '" + k + "'");
      }
    }
    if (r.name.empty()) error(t, "rule without a name");
    if (!have_priority) error(t, "rule '" + r.name + "' has no priority");
    if (!have_actions || (r.actions.empty() && errors.size() == errors_before)) error(t, "rule '" + r.name + "' has no actions");
    if (r.active_from && r.active_until && *r.active_until <= *r.active_from)
      error(t, "rule '" + r.name + "': active_until is not after active_from");
    set.rules.push_back(std::move(r));
  }

  void check_unique() {
    std::map<int, const Rule*> priorities;
    std::map<std::string, const Rule*> names;
    for (const auto& r : set.rules) {
      if (auto [it, fresh] = priorities.emplace(r.priority, &r); !fresh)
        errors.push_back({file, r.line, "duplicate priority " + std::to_string(r.priority) + " (also rule '" +
                                            it->second->name + "' at line " + std::to_string(it->second->line) + ")"});
      if (auto [it, fresh] = names.emplace(util::to_lower(r.name), &r); !fresh && !r.name.empty())
        errors.push_back({file, r.line, "duplicate rule name '" + r.name + "' (also at line " +
                                            std::to_string(it->second->line) + ")"});
    }
  }
};

}  // namespace

LoadResult load_rules(std::string_view text, const std::string& source) {
  LoadResult result;
  Loader loader;
  loader.file = source;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    result.errors.push_back({source, static_cast<int>(e.source().begin.line), std::string(e.description())});
    return result;
  }
  for (auto&& [key, node] : root) {
    if (key.str() != "rule") {
      loader.error(node, "unknown top-level key '" + std::string(key.str()) + "' (rules are [[rule]] tables)");
      continue;
    }
    const toml::array* rules = node.as_array();
    if (!rules) {
      loader.error(node, "rule: write each rule as a [[rule]] table");
      continue;
    }
    for (const auto& r : *rules) {
      if (const toml::table* t = r.as_table()) loader.read_rule(*t);
      else loader.error(r, "rule: each entry must be a table");
    }
  }
  loader.check_unique();
  if (auto problem = loader.compiler.finish(loader.set.texts); !problem.empty())
    result.errors.push_back({source, 0, problem});
  result.errors.insert(result.errors.end(), loader.errors.begin(), loader.errors.end());
  if (!result.errors.empty()) {
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const LoadError& a, const LoadError& b) { return a.line < b.line; });
    return result;
  }
  loader.set.source = source;
  std::stable_sort(loader.set.rules.begin(), loader.set.rules.end(),
                   [](const Rule& a, const Rule& b) { return a.priority < b.priority; });
  result.rules = std::move(loader.set);
  return result;
}

LoadResult load_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return LoadResult{std::nullopt, {{path, 0, "cannot read the rules file"}}};
  std::stringstream text;
  text << in.rdbuf();
  return load_rules(text.str(), path);
}

std::vector<LoadError> check_route_names(const RuleSet& rules, const std::vector<std::string>& route_names) {
  std::vector<LoadError> errors;
  for (const auto& r : rules.rules)
    for (const auto& a : r.actions)
      if (a.kind == ActionKind::route && std::find(route_names.begin(), route_names.end(), a.name) == route_names.end())
        errors.push_back({rules.source, a.line, "route: no [[route]] named '" + a.name + "' in the configuration"});
  return errors;
}

}  // namespace mailmoat::policy

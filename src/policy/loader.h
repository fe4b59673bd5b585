// Reads a transport rules file (TOML; format in docs/rules.md) into a compiled
// RuleSet. Everything that can be wrong with a rule is found here, not while
// mail flows: an invalid regex, a date that does not parse, an unknown
// condition or action, a duplicate priority or name, a bad address or header
// name. Each error carries the file and line (`FILE:LINE: message`); a file
// with any error yields no rule set at all, so the previous one stays active.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/rules.h"

namespace mailmoat::policy {

struct LoadError {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  std::optional<RuleSet> rules;  // set when errors is empty
  std::vector<LoadError> errors;
};

LoadResult load_rules(std::string_view text, const std::string& source);
LoadResult load_rules_file(const std::string& path);

// Rules whose `route` action names a route not in `route_names` (the named
// [[route]] tables of the configuration): one error per action, with its line.
std::vector<LoadError> check_route_names(const RuleSet& rules, const std::vector<std::string>& route_names);

}  // namespace mailmoat::policy

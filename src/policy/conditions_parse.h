// Turns one TOML condition or action entry into its compiled form (used by the
// loader). Word lists and text regexes are not compiled one by one into
// matchers: they are added to the RE2::Set of the text they scan, and
// finish() compiles each set once for the whole rules file.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <toml++/toml.h>

#include "policy/rules.h"


namespace mailmoat::policy {

class Compiler {
 public:
  // On failure returns nullopt and sets `problem` to a message without the line.
  std::optional<Condition> condition(const std::string& name, const toml::node& value, std::string& problem);
  std::optional<Action> action(const std::string& name, const toml::node& value, std::string& problem);
  // Compiles every text's set into `texts`; returns a problem or "".
  std::string finish(std::map<std::string, TextPatterns>& texts);

 private:
  struct Pending {
    std::vector<std::string> regex;        // RE2 syntax
    std::vector<std::string> description;  // "word x" / "regex y"
  };
  std::map<std::string, Pending> pending_;
  bool text_patterns(const toml::node& value, const std::vector<std::string>& targets, Condition& c,
                     std::string& problem);
  bool string_matcher(const toml::node& value, Condition& c, std::string& problem);
  // In parse_extras.cpp: conditions on partner-connector and attachment facts, and the
  // actions that ask the queue for a way of delivery (route, require_tls, hold).
  std::optional<Condition> fact_condition(const std::string& name, const toml::node& value, std::string& problem);
  std::optional<Action> delivery_action(const std::string& name, const toml::node& value, std::string& problem);
};

// In disclaimer_parse.cpp: { text, html, position = append|prepend, fallback = wrap|ignore|reject }.
std::optional<Action> disclaimer_action(const toml::node& value, std::string& problem);

}  // namespace mailmoat::policy

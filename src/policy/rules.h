// Transport rules (Exchange "mail flow rules"): if every condition matches and
// no exception does, the actions run. A RuleSet is the compiled, immutable form
// of one rules file: regular expressions are RE2 (linear time on hostile input),
// compiled once at load, and every word list and body/header regex of the whole
// set is folded into one RE2::Set per text (subject, body, a header), so a
// message's text is scanned once per text, not once per word or rule.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>

#include "util/cidr.h"


namespace mailmoat::policy {

enum class ConditionKind {
  sender_address, sender_domain, sender_scope, recipient_address, recipient_domain, sender_ip,
  header, subject, body, subject_or_body, size_at_least, scl_at_least, scl_at_most,
  spf, dkim, dmarc, arc, compauth, dmarc_policy, tls, direction, message_type,
  connector, domain_secured,
  // Attachment facts (Safe Attachments): evaluated in the second rules pass.
  attachment_name, attachment_extension, attachment_type, attachment_size_at_least, attachment_executable,
  attachment_password_protected, attachment_scan_incomplete, attachment_verdict, attachment_contains,
};

// True for conditions on attachment facts, which exist only after Safe Attachments ran.
inline bool is_attachment_condition(ConditionKind k) { return k >= ConditionKind::attachment_name; }

enum class AddressSource { header, envelope, either };
enum class RecipientScope { any, all };

// is / glob / regex over short strings (addresses, domains); case-insensitive.
struct StringMatcher {
  std::vector<std::string> is;    // lower case
  std::vector<std::string> glob;  // lower case, '*' and '?'
  std::vector<std::shared_ptr<const re2::RE2>> regex;
  // The first alternative that matches `value`, described ("is x", "regex y"); nullopt when none.
  std::optional<std::string> match(const std::string& value) const;
};

struct Condition {
  ConditionKind kind{};
  int line = 0;
  std::string description;  // as the explanation prints it
  AddressSource source = AddressSource::either;
  RecipientScope scope = RecipientScope::any;
  StringMatcher strings;
  std::vector<util::Network> networks;
  struct TextRef {
    std::string target;    // key of RuleSet::texts: subject, body, header:<lower name>, header:*
    std::vector<int> ids;  // this condition's patterns in that set
  };
  std::vector<TextRef> texts;
  std::int64_t number = 0;
  std::vector<std::string> words;  // result words, directions, message types (lower case)
  bool flag = false;
};

enum class ActionKind {
  reject, quarantine, redirect, add_to, add_cc, add_bcc, delete_message, set_header, remove_header,
  prepend_subject, set_scl, route, require_tls, hold, notify, disclaimer,
};

// The disclaimer action: text for text/plain parts, HTML for text/html parts
// (the escaped text when `html` is empty), appended or prepended once per
// message; `fallback` says what happens when the message cannot be changed.
enum class DisclaimerFallback { wrap, ignore, reject };
struct Disclaimer {
  std::string text, html;
  bool prepend = false;
  DisclaimerFallback fallback = DisclaimerFallback::wrap;
};

struct Action {
  ActionKind kind{};
  int line = 0;
  std::string enhanced = "5.7.1";  // reject: 5.7.1 or 5.7.900-5.7.999
  std::string text;                // reject reply text; set_header value; subject prefix
  std::string name;                // header name
  std::vector<std::string> addresses;
  int scl = 0;
  std::int64_t minutes = 0;  // hold
  std::string subject;       // notify: subject template (text holds the body template)
  Disclaimer disclaimer;
  std::string describe() const;
};

struct Rule {
  std::string name;
  int priority = 0;
  int line = 0;
  bool enabled = true;
  bool audit = false;  // evaluate and record, change nothing
  std::optional<std::int64_t> active_from, active_until;  // unix seconds
  bool stop = false;
  bool defer_on_error = false;  // a condition that cannot be evaluated tempfails the message
  std::vector<Condition> conditions, exceptions;
  std::vector<Action> actions;
  // Some condition or exception tests attachment facts: the rule runs in the
  // second pass, after Safe Attachments (docs/decisions.md).
  bool needs_attachments = false;
};

// All patterns that scan one text (subject, body, or header:<name> / header:*).
struct TextPatterns {
  std::vector<std::string> patterns;  // as written ("word x", "regex y"), for explanations
  std::shared_ptr<re2::RE2::Set> set;      // compiled once, after the whole file is read
};

struct RuleSet {
  std::string source;      // file name
  std::vector<Rule> rules;  // sorted by priority
  std::map<std::string, TextPatterns> texts;
};

const char* to_string(ConditionKind kind);
const char* to_string(ActionKind kind);
const char* to_string(DisclaimerFallback fallback);

}  // namespace mailmoat::policy

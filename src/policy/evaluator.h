// Runs a compiled RuleSet over one message's facts and says what happens and
// why. Rules run in priority order; a rule applies when every condition
// matches and no exception does, and it is active (enabled, inside its
// active-from/until window by the injected clock). Audit rules are explained
// but change nothing. Reject and delete end processing (as in Exchange), as
// does a rule's `stop`. A condition that cannot be evaluated (undecodable
// body, regex engine out of memory) does not match and is explained; a rule
// with on_error = "defer" turns that into a temporary failure instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/facts.h"
#include "policy/rules.h"

namespace mailmoat::policy {

// Which rules an evaluation runs: every rule (`mailmoat rules test`), those
// without attachment conditions (the rules filter, before Safe Attachments) or
// only those with them (the second pass, after it).
enum class Pass { all, content, attachments };

enum class Outcome { deliver, reject, quarantine, discard, tempfail };
const char* to_string(Outcome outcome);

// A notification a rule asks for: `to` holds addresses and the words
// "sender" / "recipients"; subject and text are templates ({rule}, {sender}, ...).
struct Notice {
  std::string rule;
  std::vector<std::string> to;
  std::string subject, text;
};

struct HeaderChange {
  bool remove = false;
  std::string name, value;
};

// The effect of all applied actions, merged.
struct Decision {
  Outcome outcome = Outcome::deliver;
  std::string enhanced, text;  // reply for reject / tempfail
  std::string decided_by;      // rule that set the outcome
  std::optional<std::vector<std::string>> redirect;
  std::vector<std::string> add_to, add_cc, add_bcc;
  std::vector<HeaderChange> headers;
  std::string subject_prefix;
  std::optional<int> scl;
  std::string route;             // named route for every recipient
  bool require_tls = false;      // outbound SMTP with verified TLS
  std::int64_t hold_minutes = 0;  // timed hold; the longest requested wins
  std::string hold_by;           // rule that asked for the hold
  std::vector<Notice> notices;
  std::optional<Disclaimer> disclaimer;  // the first matching rule's; later ones are traced, not added
  std::string disclaimer_by;
};

struct RuleMatch {
  std::string rule;
  int priority = 0;
  bool audit = false;
  std::vector<std::string> because;  // each condition and what in the message matched it
  std::vector<std::string> actions;  // taken, or (audit) that would have been taken
  bool stopped = false;              // no further rules ran after this one
};

struct Evaluation {
  std::vector<RuleMatch> matched;
  std::vector<std::string> notes;  // rules skipped (inactive), conditions that could not be evaluated
  Decision decision;
};

Evaluation evaluate(const RuleSet& rules, const MessageFacts& facts, std::int64_t now_unix, Pass pass = Pass::all);

}  // namespace mailmoat::policy

#include "auth/dmarc/handling.h"

namespace mailmoat::auth::dmarc {

std::string_view to_string(Action a) {
  switch (a) {
    case Action::deliver: return "deliver";
    case Action::deliver_as_spam: return "deliver_as_spam";
    case Action::quarantine: return "quarantine";
    case Action::reject: return "reject";
    case Action::tempfail: return "tempfail";
  }
  return "deliver";
}

Handling decide(const DmarcResult& r, const HandlingPolicy& policy) {
  Handling h;
  h.action_word = "none";
  if (r.verdict == Verdict::temperror && policy.tempfail_on_temperror) {
    h.action = Action::tempfail;
    h.action_word = "temperror";
    h.smtp_reply = "451 4.7.5 DMARC evaluation of " + r.from_domain + " failed temporarily, try again later";
    return h;
  }
  if (r.verdict != Verdict::fail || r.applied == Policy::none) return h;
  bool reject_asked = r.applied == Policy::reject;
  h.action = reject_asked ? policy.on_reject : policy.on_quarantine;
  if (!reject_asked && h.action == Action::reject) h.action = Action::quarantine;  // never harsher than asked
  switch (h.action) {
    case Action::reject:
      h.action_word = "reject";
      h.smtp_reply = "550 5.7.1 Rejected by the DMARC policy of " + r.policy_domain + ": " + r.reason;
      break;
    case Action::quarantine:
      h.action_word = reject_asked ? "oreject" : "quarantine";
      break;
    case Action::deliver_as_spam:
      h.action_word = reject_asked ? "oreject" : "oquarantine";
      h.spam_confidence_level = policy.spam_confidence_level;
      break;
    default:
      h.action = Action::deliver;
      h.action_word = "none";
  }
  return h;
}

}  // namespace mailmoat::auth::dmarc

// What the gateway does with a DMARC result: the inbound handling policy an
// administrator configures, like EOP's ("honor p=reject: reject or
// quarantine", "honor p=quarantine: quarantine or junk"), turned into an
// action, the SMTP reply for a reject, and the action= word of the
// Authentication-Results entry ("oreject" = reject asked, not honoured).
#pragma once

#include <string>

#include "auth/dmarc/dmarc.h"

namespace mailmoat::auth::dmarc {

enum class Action { deliver, deliver_as_spam, quarantine, reject, tempfail };
std::string_view to_string(Action a);

struct HandlingPolicy {
  Action on_reject = Action::reject;          // reject, quarantine or deliver_as_spam
  Action on_quarantine = Action::quarantine;  // quarantine or deliver_as_spam
  bool tempfail_on_temperror = false;         // 451 when DMARC could not be evaluated
  int spam_confidence_level = 5;              // written with deliver_as_spam
};

struct Handling {
  Action action = Action::deliver;
  std::string action_word;  // for Authentication-Results action=
  std::string smtp_reply;   // "550 5.7.1 ..." or "451 4.7.5 ..." when refused
  int spam_confidence_level = -1;  // -1: not set
};

Handling decide(const DmarcResult& result, const HandlingPolicy& policy = {});

}  // namespace mailmoat::auth::dmarc

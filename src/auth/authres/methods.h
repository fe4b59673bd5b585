// Authentication-Results entries (RFC 8601 §2.7) for mailmoat's own results:
// spf (RFC 7208 §9.2), dmarc (with compauth as its own method, as EOP
// writes it), iprev (§3) and a generic dkim/arc entry for the DKIM module.
// Comments stay short and readable, e.g. "(sender IP is 192.0.2.1)".
#pragma once

#include <string>

#include "auth/authres/authres.h"
#include "auth/dmarc/dmarc.h"
#include "auth/iprev/iprev.h"
#include "auth/spf/spf.h"

namespace mailmoat::auth::authres {

MethodResult spf_entry(const spf::SpfResult& r);
// `action` is what the gateway did (e.g. "reject", "quarantine", "none");
// when non-empty it is written as `action=` after the result, as EOP does.
MethodResult dmarc_entry(const dmarc::DmarcResult& r, std::string_view action = {});
MethodResult compauth_entry(const dmarc::DmarcResult& r);
MethodResult iprev_entry(const iprev::IprevResult& r);
// dkim=RESULT header.d=D header.s=S header.b=FIRST-8-OF-b (RFC 6008), or arc=.
MethodResult signature_entry(std::string_view method, std::string_view result, std::string_view d,
                             std::string_view s, std::string_view b, std::string_view comment = {});

}  // namespace mailmoat::auth::authres

#include "auth/authres/methods.h"

#include <cstdio>

namespace mailmoat::auth::authres {

MethodResult spf_entry(const spf::SpfResult& r) {
  MethodResult m;
  m.method = "spf";
  m.result = std::string(spf::to_string(r.verdict));
  m.comment = "sender IP is " + r.request.ip.to_string();
  if (r.verdict == spf::Verdict::permerror || r.verdict == spf::Verdict::temperror) m.comment += "; " + r.problem;
  if (r.request.identity == spf::Identity::helo) m.properties.push_back({"smtp", "helo", r.request.domain});
  else m.properties.push_back({"smtp", "mailfrom", r.request.sender});
  return m;
}

MethodResult dmarc_entry(const dmarc::DmarcResult& r, std::string_view action) {
  MethodResult m;
  m.method = "dmarc";
  m.result = std::string(dmarc::to_string(r.verdict));
  if (!r.policy_domain.empty()) {
    m.comment = "p=" + std::string(dmarc::to_string(r.record.p));
    if (r.record.sp) m.comment += " sp=" + std::string(dmarc::to_string(*r.record.sp));
    m.comment += " dis=" + std::string(dmarc::to_string(r.applied));
    if (r.override_reason != dmarc::Override::none) m.comment += " override=" + std::string(dmarc::to_string(r.override_reason));
  } else {
    m.comment = r.reason;
  }
  if (!action.empty()) m.properties.push_back({"", "action", std::string(action)});
  m.properties.push_back({"header", "from", r.from_domain});
  if (!r.policy_domain.empty()) m.properties.push_back({"policy", "dmarc", std::string(dmarc::to_string(r.requested))});
  return m;
}

MethodResult compauth_entry(const dmarc::DmarcResult& r) {
  MethodResult m;
  m.method = "compauth";
  m.result = std::string(dmarc::to_string(r.compauth));
  char code[8];
  (void)std::snprintf(code, sizeof code, "%03d", r.compauth_reason);
  m.reason = code;
  return m;
}

MethodResult iprev_entry(const iprev::IprevResult& r) {
  MethodResult m;
  m.method = "iprev";
  m.result = std::string(iprev::to_string(r.verdict));
  m.comment = r.name.empty() ? r.reason : r.name;
  m.properties.push_back({"policy", "iprev", r.ip.to_string()});
  return m;
}

MethodResult signature_entry(std::string_view method, std::string_view result, std::string_view d,
                             std::string_view s, std::string_view b, std::string_view comment) {
  MethodResult m;
  m.method = std::string(method);
  m.result = std::string(result);
  m.comment = std::string(comment);
  if (!d.empty()) m.properties.push_back({"header", "d", std::string(d)});
  if (!s.empty()) m.properties.push_back({"header", "s", std::string(s)});
  if (!b.empty()) m.properties.push_back({"header", "b", std::string(b.substr(0, 8))});
  return m;
}

}  // namespace mailmoat::auth::authres

// What one delivery decides before it connects (internal to the SMTP client,
// smtp_transport.cpp): the MX targets (RFC 5321 §5.1), and per host the TLS
// plan that the configured level, DANE (RFC 7672) and MTA-STS (RFC 8461) ask
// for, carrying what TLS-RPT (RFC 8460) will report for the session or for a
// host refused before any session.
#pragma once

#include <boost/asio.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtp/client/smtp_transport.h"

namespace mailmoat::smtp::delivery_plan {

using boost::asio::awaitable;
using queue::RecipientResult;
using Outcome = queue::RecipientResult::Outcome;

// (An initializer list inside a coroutine trips g++ 12; a named array does not.)
constexpr dns::RecordType kAddressTypes[] = {dns::RecordType::a, dns::RecordType::aaaa};

// What STARTTLS must achieve on one connection: the policy, its context, the MX host name.
struct TlsPlan {
  tls::ClientPolicy policy;
  std::shared_ptr<tls::ClientContext> context;
  std::string mx_host;
  std::vector<dns::TlsaRecord> tlsa;  // level dane: the host's usable TLSA records (RFC 7672)
  std::string refuse;                 // non-empty: this host must not be used (dane-only without TLSA)
  // TLS-RPT (RFC 8460 §4.2): which policy this is, as the report names it.
  std::string report_type = "no-policy-found";  // tlsa, sts, no-policy-found
  std::string report_policy;                    // '\n'-separated policy-string lines
  std::string report_mx;                        // sts: the policy's mx patterns
  // A failure found before the connection (RFC 8460 §4.3: sts-policy-fetch-error, tlsa-invalid, ...):
  // recorded for a refused host, and for a session on this plan in place of its own result.
  std::string report_failure;
  std::string report_reason;
  bool testing = false;     // MTA-STS testing (RFC 8461 §5): checked like verify and reported, never enforced
  std::string tlsa_base;    // level dane: the TLSA base domain when it is the MX name's secure CNAME expansion
};

struct Target {
  std::string name;     // host name for logs and the trace
  std::string address;  // numeric address
  std::uint16_t port = 25;
  bool secure = false;  // the MX and address records were DNSSEC-validated (RFC 7672 §2.2)
  std::string expanded;  // the name the address records' CNAME chain led to, if any (RFC 7672 §2.2.2)
  std::optional<TlsPlan> tls;  // a plan of its own (DANE resolved per host), else the delivery's
};

// Waits for a Resolver answer; resumes on the awaiting coroutine's executor.
// A plain function (not a coroutine): g++ 12 mishandles lambdas with
// captured strings inside coroutine frames.
struct ResolveInitiation {
  dns::Resolver* resolver;
  template <typename Handler>
  void operator()(Handler handler, dns::Question q) const {
    auto ex = boost::asio::get_associated_executor(handler);
    auto h = std::make_shared<Handler>(std::move(handler));
    resolver->resolve(std::move(q), [h, ex](dns::Answer a) mutable {
      boost::asio::post(ex, [h, a = std::move(a)]() mutable { (*h)(std::move(a)); });
    });
  }
};

inline auto resolve(dns::Resolver& resolver, dns::Question q) {
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(dns::Answer)>(
      ResolveInitiation{&resolver}, boost::asio::use_awaitable, std::move(q));
}

// A required TLS policy was not met: deferred (never sent in clear), marked for `queue retry --tls-failures`.
std::vector<RecipientResult> tls_failed(std::size_t n, const std::string& reason, const std::string& remote);

// The MX hosts' addresses in preference order; `bogus` collects the names whose
// answers failed DNSSEC validation ("" for the MX lookup itself).
awaitable<std::vector<Target>> mx_targets(dns::Resolver& resolver, const std::string& domain, std::uint16_t port,
                                          std::string& error, bool& permanent, std::vector<std::string>& bogus);

// RFC 7672 §2.2: per host, the plan DANE gives a dane or dane-only delivery.
// True when at least one host got DANE authentication.
awaitable<bool> resolve_dane(dns::Resolver& resolver, std::vector<Target>& targets, const TlsPlan& base,
                             tls::ClientContextCache& contexts, bool requiretls);

// RFC 8460 dnssec-invalid for the MX or address answers that failed validation.
void report_bogus(const SmtpTransportOptions& options, const queue::DeliveryJob& j, const std::vector<std::string>& names);

// MTA-STS enforce/testing on the targets and plans; a value is the delivery's
// result when no host may be used.
awaitable<std::optional<std::vector<RecipientResult>>> apply_mta_sts(const SmtpTransportOptions& options,
                                                                      const queue::DeliveryJob& j,
                                                                      std::vector<Target>& targets,
                                                                      std::optional<TlsPlan>& tls_plan,
                                                                      tls::ClientContextCache& contexts);

// TLS-RPT (RFC 8460 §4): one new session, or one host refused before any session, under `plan`.
void report_tls(const SmtpTransportOptions& options, const queue::DeliveryJob& job, const TlsPlan& plan, const Target& t,
                std::string result, std::string reason, std::string sending_ip);

}  // namespace mailmoat::smtp::delivery_plan

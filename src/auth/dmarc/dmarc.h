// DMARC evaluation. Default RFC 9989 (DMARCbis): policy discovery and
// organizational domains by the bounded DNS tree walk (§4.10, at most 8
// queries per walk, answers shared within one evaluation), psd=, np=, t=.
// Compatibility mode: RFC 7489 with organizational domains from the PSL.
// DMARC consumes SPF and DKIM outcomes as plain values (no dependency on the
// DKIM module). Also the composite "compauth" verdict (docs/dmarc.md).
//
//   dmarc::Input in{.from_domain = "example.com", .spf = {"bounce.example.com", AuthOutcome::pass},
//                   .dkim = {{"example.com", "s1", AuthOutcome::pass}}};
//   dmarc::evaluate(resolver, in, {}, [](dmarc::DmarcResult r) { ... });
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/dmarc/psl.h"
#include "auth/dmarc/record.h"
#include "dns/resolver.h"
#include "dns/task.h"
#include "dns/zone_resolver.h"

namespace mailmoat::auth::dmarc {

// The result of an SPF check or one DKIM signature, as DMARC sees it.
enum class AuthOutcome { none, pass, fail, softfail, neutral, temperror, permerror, policy };
std::string_view to_string(AuthOutcome o);

struct SpfInput {
  std::string domain;  // MAIL FROM domain, or the HELO name when MAIL FROM was empty
  AuthOutcome result = AuthOutcome::none;
};

struct DkimInput {
  std::string domain;    // d=
  std::string selector;  // s=
  AuthOutcome result = AuthOutcome::none;
};

// Why the receiver applied a weaker policy than the one asked (RFC 7489 §7.3 PolicyOverride).
enum class Override { none, testing, local_policy, trusted_forwarder, mailing_list };
std::string_view to_string(Override o);

struct Input {
  std::string from_domain;  // RFC5322.From domain
  SpfInput spf;
  std::vector<DkimInput> dkim;
  bool trusted_arc = false;  // a trusted ARC sealer vouches for authentication upstream
};

enum class Mode { rfc9989, rfc7489 };

struct Options {
  Mode mode = Mode::rfc9989;
  const PublicSuffixList* psl = nullptr;  // required in Mode::rfc7489
  int max_walk_queries = 8;               // per tree walk (RFC 9989 §4.10)
};

enum class Verdict { none, pass, fail, temperror, permerror };
std::string_view to_string(Verdict v);

enum class CompVerdict { pass, fail, softpass, none };
std::string_view to_string(CompVerdict v);

struct DmarcResult {
  Verdict verdict = Verdict::none;
  std::string from_domain;
  std::string policy_domain;   // where the record was found ("" if none)
  std::string org_domain;      // organizational domain of the From domain
  Record record;               // valid when policy_domain is not empty
  Policy requested = Policy::none;  // p=, sp= or np= as it applies to this From domain
  Policy applied = Policy::none;    // what the receiver should do after overrides
  Override override_reason = Override::none;
  bool spf_aligned = false;    // SPF passed and aligned
  bool dkim_aligned = false;   // some DKIM signature passed and aligned
  std::string dkim_domain, dkim_selector;  // the aligned passing signature
  std::string reason;          // one line for logs and Authentication-Results comments
  CompVerdict compauth = CompVerdict::none;
  int compauth_reason = 0;     // documented in docs/dmarc.md
  int dns_queries = 0;
};

dns::Task<DmarcResult> evaluate_task(dns::Resolver& resolver, Input input, Options options = {});
void evaluate(dns::Resolver& resolver, Input input, Options options, std::move_only_function<void(DmarcResult)> done);
DmarcResult evaluate(dns::ZoneResolver& resolver, Input input, Options options = {});

// Applies a receiver override (local allow-list, mailing list, ...) to a failed result.
void apply_override(DmarcResult& result, Override reason);

// What aggregate reports (RFC 9990) need from one message; kept by a sink.
struct AggregateRecord {
  std::string source_ip, header_from, policy_domain;
  Policy disposition = Policy::none;
  Verdict dmarc = Verdict::none;
  SpfInput spf;
  std::vector<DkimInput> dkim;
  Override override_reason = Override::none;
};
class AggregateSink {
 public:
  virtual ~AggregateSink() = default;
  virtual void record(const AggregateRecord& r) = 0;
};
AggregateRecord aggregate_record(const DmarcResult& result, const Input& input, std::string source_ip);

}  // namespace mailmoat::auth::dmarc

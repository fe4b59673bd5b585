// MTA-STS (RFC 8461) for delivery by MX: discover the policy id in the
// `_mta-sts` TXT record, fetch the policy over HTTPS from mta-sts.<domain>
// (certificate verified for that name, no redirects, at most 64 KiB), cache
// it for max_age, and fetch again when the id changes. A failed discovery or
// fetch keeps a still-valid cached policy (§5.1) and otherwise means "no
// policy": MTA-STS never blocks mail by being unreachable. Such a failure
// still carries its RFC 8460 §4.3.2.2 result type for the TLS-RPT report.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dns/resolver.h"
#include "tls/mta_sts_policy.h"

namespace boost::asio::ssl {
class context;
}

namespace mailmoat::tls {

struct StsLookup {
  bool found = false;
  StsPolicy policy;
  std::string id;
  std::string note;  // how it was found or why there is none, for logs and the trace
  // No policy although the domain publishes a `v=STSv1` record: the RFC 8460 result
  // type (sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid), else empty.
  std::string failure;
};

class MtaSts {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds
  // `ca_file` empty: the system trust store. `https_port` is 443 outside tests.
  MtaSts(dns::Resolver& resolver, const std::string& ca_file, Clock clock, std::uint16_t https_port = 443,
         std::chrono::seconds timeout = std::chrono::seconds(30));
  ~MtaSts();
  boost::asio::awaitable<StsLookup> lookup(std::string domain);

 private:
  struct Cached {
    std::string id;
    StsPolicy policy;
    std::int64_t expires = 0;
  };
  std::optional<Cached> cached(const std::string& domain) const;
  struct Fetched {
    std::string body, error;
    std::string failure;  // empty: `body` is the policy text; else the RFC 8460 result type
  };
  boost::asio::awaitable<Fetched> fetch(std::string domain, std::string address);

  dns::Resolver& resolver_;
  std::unique_ptr<boost::asio::ssl::context> context_;
  Clock clock_;
  std::uint16_t port_;
  std::chrono::seconds timeout_;
  mutable std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

}  // namespace mailmoat::tls

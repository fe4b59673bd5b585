// The click-time verdict on a destination (docs/links.md "Verdicts"): block and
// allow lists first, then heuristics, each with a reason in plain words: an IP
// literal host, credentials in the URL, a look-alike of a protected domain
// (ICU's spoof checker skeletons, Unicode TR 39, after IDNA decoding with
// libidn2), mixed scripts in a punycode host, excessive subdomain depth, a URL
// shortener. Verdicts are cached per URL; the cache is dropped when a list changes.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "links/url_list.h"

namespace mailmoat::links {

enum class Rating { allowed, suspicious, malicious };
std::string_view to_string(Rating r);

struct UrlVerdict {
  Rating rating = Rating::allowed;
  std::vector<std::string> reasons;  // plain words, shown to the user
  std::string list_entry;            // the list line that decided ("file:line entry"), for the trace only
  std::string shortener;             // the listed URL shortener the link goes through, if any
};

struct VerdictOptions {
  std::vector<std::string> protected_domains;  // the organization's domains and brands to guard
  std::vector<std::string> shorteners;         // hosts of URL shorteners
  std::size_t max_subdomain_depth = 5;         // labels left of the registrable two
  std::size_t cache_entries = 10000;
  std::chrono::seconds cache_ttl{300};
};

class VerdictEngine {
 public:
  // `block`/`allow` may be null (no list).
  VerdictEngine(VerdictOptions options, std::shared_ptr<UrlListFiles> block, std::shared_ptr<UrlListFiles> allow);
  ~VerdictEngine();
  UrlVerdict evaluate(const std::string& url);

 private:
  UrlVerdict judge(const std::string& url, const UrlList* block, const UrlList* allow) const;
  void heuristics(const UrlParts& parts, UrlVerdict& v) const;
  VerdictOptions options_;
  std::shared_ptr<UrlListFiles> block_, allow_;
  struct Spoof;
  std::unique_ptr<Spoof> spoof_;
  std::vector<std::pair<std::string, std::string>> protected_skeletons_;  // domain, skeleton
  std::mutex mutex_;
  struct Cached {
    UrlVerdict verdict;
    std::chrono::steady_clock::time_point at;
    std::list<std::string>::iterator order;
  };
  std::unordered_map<std::string, Cached> cache_;
  std::list<std::string> order_;  // most recent first
  std::uint64_t cache_generation_ = ~0ull;
};

}  // namespace mailmoat::links

// An answer cache in front of another Resolver (the libunbound one): a
// question asked again within its TTL is answered at once on the caller's
// thread, without the trip to the resolver's strand and libunbound's worker.
// What is cached: answers with records (ok), and negative answers (nxdomain,
// nodata) that carry a TTL; never servfail, timeout or a DNSSEC-bogus result.
// Answers keep their DNSSEC flag, and report the TTL that remains. Holding
// times are capped (positive and negative separately) and the cache holds at
// most `capacity` questions, dropping the first cached first. Safe to call from
// several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dns/resolver.h"

namespace mailmoat::dns {

struct CacheLimits {
  std::size_t capacity = 10000;
  std::uint32_t max_ttl = 3600;           // seconds an answer with records is kept at most
  std::uint32_t max_negative_ttl = 900;   // nxdomain / nodata
};

class CachingResolver : public Resolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  CachingResolver(Resolver& inner, CacheLimits limits = {}, Clock clock = std::chrono::steady_clock::now);
  // Owning the resolver it is in front of.
  CachingResolver(std::unique_ptr<Resolver> inner, CacheLimits limits = {});

  void resolve(Question question, Callback done) override;

  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Entry {
    Answer answer;
    std::chrono::steady_clock::time_point expires;
  };
  using Key = std::pair<std::string, RecordType>;
  void store(const Key& key, const Answer& answer);

  std::unique_ptr<Resolver> owned_;
  Resolver& inner_;
  CacheLimits limits_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<Key, Entry> entries_;
  std::deque<Key> order_;  // each key of entries_ once, in the order first cached
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace mailmoat::dns

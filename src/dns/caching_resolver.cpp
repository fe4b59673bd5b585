#include "dns/caching_resolver.h"

#include <algorithm>

#include "util/strings.h"

namespace mailmoat::dns {

CachingResolver::CachingResolver(Resolver& inner, CacheLimits limits, Clock clock)
    : inner_(inner), limits_(limits), clock_(std::move(clock)) {}

CachingResolver::CachingResolver(std::unique_ptr<Resolver> inner, CacheLimits limits)
    : owned_(std::move(inner)), inner_(*owned_), limits_(limits), clock_(std::chrono::steady_clock::now) {}

void CachingResolver::resolve(Question question, Callback done) {
  Key key{util::to_lower(question.name), question.type};  // names compare without ASCII case (RFC 4343)
  const auto now = clock_();
  {
    std::unique_lock lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      if (it->second.expires > now) {
        ++hits_;
        Answer a = it->second.answer;
        a.ttl = static_cast<std::uint32_t>(
            std::chrono::ceil<std::chrono::seconds>(it->second.expires - now).count());
        lock.unlock();
        done(std::move(a));
        return;
      }
      // Expired: asked again below; the fresh answer replaces it in place.
    }
    ++misses_;
  }
  inner_.resolve(std::move(question), [this, key = std::move(key), done = std::move(done)](Answer a) mutable {
    store(key, a);
    done(std::move(a));
  });
}

void CachingResolver::store(const Key& key, const Answer& answer) {
  if (answer.bogus || answer.ttl == 0) return;
  std::uint32_t cap = 0;
  switch (answer.status) {
    case Status::ok:
      cap = limits_.max_ttl;
      break;
    case Status::nxdomain:
    case Status::nodata:
      cap = limits_.max_negative_ttl;
      break;
    case Status::servfail:
    case Status::timeout:
      return;
  }
  const auto hold = std::chrono::seconds(std::min(answer.ttl, cap));
  if (hold.count() == 0 || limits_.capacity == 0) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.insert_or_assign(key, Entry{answer, clock_() + hold});
  if (inserted) order_.push_back(key);
  // Every key in entries_ is in order_ once: the oldest go first.
  while (entries_.size() > limits_.capacity) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::uint64_t CachingResolver::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::uint64_t CachingResolver::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace mailmoat::dns

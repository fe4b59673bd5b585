#include "smtp/server/connection_limiter.h"

namespace mailmoat::smtp {

std::optional<std::string> ConnectionLimiter::admit(const std::string& ip, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (total_ >= limits_.max_total) return "too many connections";
  if (per_ip_.size() > 4096) {
    // Forget addresses with nothing open and no connection in the last minute.
    std::erase_if(per_ip_, [now](const auto& kv) {
      return kv.second.active == 0 && (kv.second.recent.empty() || now - kv.second.recent.back() > std::chrono::minutes(1));
    });
  }
  PerIp& p = per_ip_[ip];
  while (!p.recent.empty() && now - p.recent.front() > std::chrono::minutes(1)) p.recent.pop_front();
  if (p.active >= limits_.max_per_ip) return "too many connections from your address";
  if (p.recent.size() >= limits_.max_rate_per_ip) return "connection rate limit exceeded for your address";
  p.recent.push_back(now);
  ++p.active;
  ++total_;
  return std::nullopt;
}

void ConnectionLimiter::set_limits(const ConnectionLimits& limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

void ConnectionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mu_);
  --total_;
  auto it = per_ip_.find(ip);
  if (it == per_ip_.end()) return;
  if (--it->second.active == 0 && it->second.recent.empty()) per_ip_.erase(it);
}

std::size_t ConnectionLimiter::active() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool ConnectionLimiter::busy() const {
  std::lock_guard lock(mu_);
  return total_ * 5 > limits_.max_total * 4;
}

}  // namespace mailmoat::smtp

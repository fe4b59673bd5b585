// Admission control for SMTP connections: a total cap, a per-client-address
// cap and a per-address rate (new connections per minute), so that a flood
// from one address cannot starve the others. Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace mailmoat::smtp {

struct ConnectionLimits {
  std::size_t max_total = 2000;
  std::size_t max_per_ip = 50;
  std::size_t max_rate_per_ip = 600;  // per minute
};

class ConnectionLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectionLimiter(const ConnectionLimits& limits) : limits_(limits) {}
  // nullopt: admitted (call release() when it ends); otherwise the reason it was refused.
  std::optional<std::string> admit(const std::string& ip, Clock::time_point now = Clock::now());
  void release(const std::string& ip);
  void set_limits(const ConnectionLimits& limits);
  std::size_t active() const;
  bool busy() const;  // above 80% of the total

 private:
  struct PerIp {
    std::size_t active = 0;
    std::deque<Clock::time_point> recent;
  };
  ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, PerIp> per_ip_;
};

}  // namespace mailmoat::smtp

// Blocking socket I/O with a deadline for the gateway-side analyzers (clamd,
// CAPE): connect to "unix:/path", "/path" or "host:port" (numeric), send all,
// wait for readiness. Never used in the sandboxed workers (no sockets there).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace mailmoat::attachments {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  ~Fd();
};

bool wait_for(int fd, short events, Clock::time_point deadline);
// "" when connected, else the reason.
std::string connect_to(const std::string& address, Fd& s, Clock::time_point deadline);
std::string send_all(int fd, std::string_view data, Clock::time_point deadline);

}  // namespace mailmoat::attachments

#include "attachments/clamd.h"

#include "attachments/net_io.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mailmoat::attachments {
namespace {

std::string be32(std::size_t n) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (24 - 8 * i)) & 0xFF);
  return out;
}

}  // namespace

Analysis ClamdClient::scan(std::string_view content, std::chrono::milliseconds limit) const {
  Analysis out;
  out.ran("clamav");
  auto deadline = Clock::now() + limit;
  Fd s;
  auto fail = [&](const std::string& why) {
    out.flag(Verdict::scan_error, "clamav: " + why);
    return out;
  };
  if (auto e = connect_to(address_, s, deadline); !e.empty()) return fail(e);
  std::string sent_error = send_all(s.fd, std::string_view("zINSTREAM\0", 10), deadline);
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; sent_error.empty() && at < content.size(); at += kChunk) {
    auto piece = content.substr(at, kChunk);
    sent_error = send_all(s.fd, be32(piece.size()), deadline);
    if (sent_error.empty()) sent_error = send_all(s.fd, piece, deadline);
  }
  if (sent_error.empty()) sent_error = send_all(s.fd, be32(0), deadline);
  std::string reply;
  char buf[512];
  while (reply.find('\0') == std::string::npos && reply.size() < 4096) {
    if (!wait_for(s.fd, POLLIN, deadline)) return fail(sent_error.empty() ? "timed out waiting for clamd" : sent_error);
    ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  reply.resize(std::min(reply.size(), reply.find('\0')));
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
  if (reply.size() > 6 && reply.compare(reply.size() - 6, 6, " FOUND") == 0) {
    auto colon = reply.find(": ");
    std::string name = reply.substr(colon == std::string::npos ? 0 : colon + 2);
    name.resize(name.size() - 6);
    out.flag(Verdict::malicious, "clamav: " + name);
    return out;
  }
  if (reply.size() >= 3 && reply.compare(reply.size() - 3, 3, " OK") == 0) return out;
  return fail(reply.empty() ? (sent_error.empty() ? "no reply" : sent_error) : reply);
}

}  // namespace mailmoat::attachments

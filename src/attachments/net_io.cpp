#include "attachments/net_io.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/errno_message.h"

namespace mailmoat::attachments {

Fd::~Fd() {
  if (fd >= 0) close(fd);
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

std::string connect_to(const std::string& address, Fd& s, Clock::time_point deadline) {
  std::string path = address.rfind("unix:", 0) == 0 ? address.substr(5) : address[0] == '/' ? address : "";
  if (!path.empty()) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return "socket path too long";
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s.fd < 0) return std::string("socket: ") + util::errno_message(errno);
    if (connect(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)
      return std::string("connect ") + path + ": " + util::errno_message(errno);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return "address is not unix:/path or host:port";
    std::string host = address.substr(0, colon), port = address.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return "bad address " + address;
    s.fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s.fd < 0) {
      freeaddrinfo(res);
      return std::string("socket: ") + util::errno_message(errno);
    }
    int rc = connect(s.fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) return std::string("connect ") + address + ": " + util::errno_message(errno);
  }
  if (!wait_for(s.fd, POLLOUT, deadline)) return "connect timed out";
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err ? std::string("connect: ") + util::errno_message(err) : "";
}

std::string send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (!wait_for(fd, POLLOUT, deadline)) return "timed out sending";
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return "connection closed while sending";  // clamd closes on "size limit exceeded"
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return "";
}

}  // namespace mailmoat::attachments

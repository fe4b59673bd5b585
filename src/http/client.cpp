#include "http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/host_port.h"
#include "util/strings.h"

namespace mailmoat::http {

util::Result<ClientResponse> request(const std::string& host_port, const std::string& method, const std::string& target,
                                     const std::string& body, const std::vector<std::string>& headers) {
  auto hp = util::parse_host_port(host_port);
  if (!hp) return util::fail(hp.error().message);
  bool v6 = hp->host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(hp->port);
    inet_pton(AF_INET6, hp->host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(hp->port);
    inet_pton(AF_INET, hp->host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    ::close(fd);
    return util::fail("cannot connect to " + host_port + ": " + std::strerror(e) + " (is mailmoat serve running?)");
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return util::fail("cannot send the request to " + host_port);
    }
    off += static_cast<std::size_t>(n);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = data.find("\r\n\r\n");
  if (data.size() < 12 || end == std::string::npos) return util::fail("malformed HTTP response from " + host_port);
  ClientResponse r;
  r.status = std::atoi(data.c_str() + 9);
  std::string head = util::to_lower(data.substr(0, end));
  r.body = data.substr(end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string decoded;
    std::size_t pos = 0;
    while (pos < r.body.size()) {
      std::size_t eol = r.body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      std::size_t size = std::stoul(r.body.substr(pos, eol - pos), nullptr, 16);
      if (size == 0) break;
      decoded += r.body.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    r.body = decoded;
  }
  return r;
}

}  // namespace mailmoat::http

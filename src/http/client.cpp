#include "http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/errno_message.h"
#include "util/host_port.h"
#include "util/http_status.h"
#include "util/strings.h"

namespace mailmoat::http {

namespace {

// Plain or TLS transfer over a connected socket.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    if (ctx_) SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  util::Result<void> start_tls(const std::string& pinned_cert) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return util::fail("TLS: cannot create a context");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx_, pinned_cert.c_str(), nullptr) != 1)
      return util::fail("TLS: cannot read " + pinned_cert);
    // The pinned certificate is the trust anchor even when it is not a CA.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx_), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) {
      long v = SSL_get_verify_result(ssl_);
      return util::fail(std::string("TLS handshake failed: ") +
                        (v != X509_V_OK ? X509_verify_cert_error_string(v) : "the gateway refused it"));
    }
    return {};
  }
  long send(const char* p, std::size_t n) {
    return ssl_ ? SSL_write(ssl_, p, static_cast<int>(n)) : ::send(fd_, p, n, MSG_NOSIGNAL);
  }
  long recv(char* p, std::size_t n) { return ssl_ ? SSL_read(ssl_, p, static_cast<int>(n)) : ::read(fd_, p, n); }

 private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace

util::Result<ClientResponse> request(const std::string& host_port, const std::string& method, const std::string& target,
                                     const std::string& body, const std::vector<std::string>& headers,
                                     const std::string& pinned_cert) {
  auto hp = util::parse_host_port(host_port);
  if (!hp) return util::fail(hp.error().message);
  bool v6 = hp->host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::fail(std::string("socket: ") + util::errno_message(errno));
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
    return util::fail("cannot connect to " + host_port + ": " + util::errno_message(e) + " (is mailmoat serve running?)");
  }
  Channel channel(fd);
  if (!pinned_cert.empty())
    if (auto ok = channel.start_tls(pinned_cert); !ok) return util::fail(host_port + ": " + ok.error().message);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::size_t off = 0;
  while (off < req.size()) {
    long n = channel.send(req.data() + off, req.size() - off);
    if (n <= 0) return util::fail("cannot send the request to " + host_port);
    off += static_cast<std::size_t>(n);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    long n = channel.recv(buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  auto end = data.find("\r\n\r\n");
  if (data.size() < 12 || end == std::string::npos) return util::fail("malformed HTTP response from " + host_port);
  ClientResponse r;
  auto code = util::http_status_code(data);
  if (!code) return util::fail("malformed HTTP status line from " + host_port);
  r.status = *code;
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

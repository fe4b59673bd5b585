// STARTTLS load for bench/tls/run (smtp-source cannot speak TLS): THREADS
// blocking clients for SECONDS against one SMTP server.
//   handshakes: connect, EHLO, STARTTLS, full handshake (no resumption),
//               EHLO over TLS, QUIT; counts completed sessions.
//   messages:   one TLS session per thread, then MAIL/RCPT/DATA of SIZE-byte
//               messages back to back; counts 250 replies to the final dot.
// Prints one JSON object: {"mode", "count", "seconds", "per_second", "errors"}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string buf;
  ~Conn() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
  bool send(const std::string& s) {
    if (ssl) return SSL_write(ssl, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
    return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // The code of one complete (multi-line) reply; 0 on error.
  int reply() {
    for (;;) {
      std::size_t start = 0, eol;
      while ((eol = buf.find("\r\n", start)) != std::string::npos) {
        std::string line = buf.substr(start, eol - start);
        start = eol + 2;
        if (line.size() >= 4 && line[3] == ' ') {
          buf.erase(0, start);
          return std::atoi(line.substr(0, 3).c_str());
        }
      }
      char tmp[4096];
      int n = ssl ? SSL_read(ssl, tmp, sizeof tmp) : static_cast<int>(::recv(fd, tmp, sizeof tmp, 0));
      if (n <= 0) return 0;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  int command(const std::string& line) { return send(line + "\r\n") ? reply() : 0; }
};

bool open_tls(Conn& c, SSL_CTX* ctx, const sockaddr_in& addr) {
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return false;
  if (c.reply() != 220 || c.command("EHLO load.test") != 250 || c.command("STARTTLS") != 220) return false;
  c.buf.clear();
  c.ssl = SSL_new(ctx);
  SSL_set_fd(c.ssl, c.fd);
  if (SSL_connect(c.ssl) != 1) return false;
  return c.command("EHLO load.test") == 250;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: tls_load HOST PORT handshakes|messages THREADS SECONDS [SIZE]\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
  inet_pton(AF_INET, argv[1], &addr.sin_addr);
  const std::string mode = argv[3];
  const int threads = std::atoi(argv[4]);
  const double seconds = std::atof(argv[5]);
  const std::size_t size = argc > 6 ? static_cast<std::size_t>(std::atol(argv[6])) : 10240;
  std::string message = "From: load@sender.test\r\nTo: bench@example.net\r\nSubject: tls load\r\n\r\n";
  while (message.size() < size) message += std::string(76, 'x') + "\r\n";
  message += ".\r\n";

  std::atomic<long> count{0}, errors{0};
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // every handshake is a full one
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
      if (mode == "handshakes") {
        while (std::chrono::steady_clock::now() < until) {
          Conn c;
          if (open_tls(c, ctx, addr) && c.command("QUIT") == 221) ++count;
          else ++errors;
        }
      } else {
        while (std::chrono::steady_clock::now() < until) {
          Conn c;
          if (!open_tls(c, ctx, addr)) {
            ++errors;
            continue;
          }
          for (int i = 0; i < 100 && std::chrono::steady_clock::now() < until; ++i) {
            if (c.command("MAIL FROM:<load@sender.test>") != 250 || c.command("RCPT TO:<bench@example.net>") != 250 ||
                c.command("DATA") != 354 || !c.send(message) || c.reply() != 250) {
              ++errors;
              break;
            }
            ++count;
          }
          c.command("QUIT");
        }
      }
      SSL_CTX_free(ctx);
    });
  }
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"mode\":\"%s\",\"count\":%ld,\"seconds\":%.2f,\"per_second\":%.1f,\"errors\":%ld}\n", mode.c_str(),
              count.load(), elapsed, static_cast<double>(count.load()) / elapsed, errors.load());
  return 0;
}

// Load client for the SMTP benchmark: N concurrent sessions each sending
// messages of a given size to one server; reports messages per second and
// the latency from the first byte of a message's transaction (MAIL) to its
// 250 reply, as percentiles. Loopback only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string buf;
  bool connect_to(const char* host, int port) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host, &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  int reply() {
    for (;;) {
      std::size_t eol;
      while ((eol = buf.find("\r\n")) != std::string::npos) {
        std::string line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        if (line.size() < 4 || line[3] == ' ') return std::atoi(line.c_str());
      }
      char tmp[8192];
      ssize_t n = ::read(fd, tmp, sizeof tmp);
      if (n <= 0) return -1;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(fd, s.data() + off, s.size() - off);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  ~Conn() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: smtp_latency HOST PORT SESSIONS MESSAGES SIZE [RCPT]\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]), sessions = std::atoi(argv[3]), total = std::atoi(argv[4]), size = std::atoi(argv[5]);
  std::string rcpt = argc > 6 ? argv[6] : "bench@localhost";
  std::string body = "From: load@sender.test\r\nTo: " + rcpt + "\r\nSubject: bench\r\n\r\n";
  while (static_cast<int>(body.size()) < size) body += std::string(76, 'x') + "\r\n";
  body += ".\r\n";
  std::atomic<int> next{0}, ok{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto worker = [&] {
    std::vector<double> mine;
    while (next < total) {
      Conn c;
      if (!c.connect_to(host, port) || c.reply() != 220 || !c.send("EHLO bench.test\r\n") || c.reply() != 250) {
        ++failed;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      for (;;) {
        if (next++ >= total) break;
        auto t0 = Clock::now();
        // Pipelined envelope, as smtp-source does.
        if (!c.send("MAIL FROM:<load@sender.test>\r\nRCPT TO:<" + rcpt + ">\r\nDATA\r\n")) break;
        if (c.reply() != 250 || c.reply() != 250 || c.reply() != 354) {
          ++failed;
          break;
        }
        if (!c.send(body) || c.reply() != 250) {
          ++failed;
          break;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++ok;
      }
      c.send("QUIT\r\n");
    }
    std::lock_guard lock(mu);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < sessions; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf("{\"messages\":%d,\"failed\":%d,\"seconds\":%.3f,\"msg_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
              ok.load(), failed.load(), secs, ok / secs, pct(0.50), pct(0.99));
  return failed > 0 ? 1 : 0;
}

// Sender for the end-to-end benchmark (issue 14): replays the corpus written by
// bench/e2e/corpus.py (OUT/index.tsv: file, envelope sender, recipient) over SESSIONS
// concurrent SMTP sessions until TOTAL messages are sent, cycling through the corpus.
// Latency is from the first byte of a transaction (MAIL) to the reply after the
// end of data, pipelined like smtp-source; messages are loaded and dot-stuffed
// before the clock starts so the sender's own work stays out of the figures.
// A 4xx/5xx reply to a message is counted (rejected) and the session goes on.
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
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Message {
  std::string envelope;  // MAIL, RCPT, DATA, pipelined
  std::string data;      // dot-stuffed, ending in CRLF.CRLF
};

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
        bool last = eol < 4 || buf[3] == ' ';
        int code = std::atoi(buf.c_str());
        buf.erase(0, eol + 2);
        if (last) return code;
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

std::string dot_stuff(const std::string& raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 64 + 8);
  bool line_start = true;
  for (char c : raw) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  out += ".\r\n";
  return out;
}

std::vector<Message> load_corpus(const std::string& dir) {
  std::vector<Message> out;
  std::ifstream index(dir + "/index.tsv");
  std::string line;
  while (std::getline(index, line)) {
    std::istringstream fields(line);
    std::string file, from, rcpt;
    if (!std::getline(fields, file, '\t') || !std::getline(fields, from, '\t') || !std::getline(fields, rcpt, '\t'))
      continue;
    std::ifstream f(dir + "/" + file, std::ios::binary);
    std::stringstream raw;
    raw << f.rdbuf();
    out.push_back({"MAIL FROM:<" + from + ">\r\nRCPT TO:<" + rcpt + ">\r\nDATA\r\n", dot_stuff(raw.str())});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: e2e_replay HOST PORT SESSIONS TOTAL CORPUS_DIR\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]), sessions = std::atoi(argv[3]), total = std::atoi(argv[4]);
  const std::vector<Message> corpus = load_corpus(argv[5]);
  if (corpus.empty()) {
    std::fprintf(stderr, "e2e_replay: no messages in %s/index.tsv\n", argv[5]);
    return 2;
  }
  std::atomic<int> next{0}, ok{0}, rejected{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto worker = [&] {
    std::vector<double> mine;
    int errors = 0;
    while (next < total && errors < 50) {
      Conn c;
      if (!c.connect_to(host, port) || c.reply() != 220 || !c.send("EHLO bench.test\r\n") || c.reply() != 250) {
        ++failed;
        ++errors;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      for (;;) {
        int i = next++;
        if (i >= total) break;
        const Message& m = corpus[static_cast<std::size_t>(i) % corpus.size()];
        auto t0 = Clock::now();
        if (!c.send(m.envelope)) break;
        int mail = c.reply(), rcpt = c.reply(), data = c.reply();
        if (mail < 0 || rcpt < 0 || data < 0) {
          ++failed;
          break;
        }
        if (data != 354) {  // refused at the envelope: counted, next message
          ++rejected;
          if (!c.send("RSET\r\n") || c.reply() != 250) break;
          continue;
        }
        int end = c.send(m.data) ? c.reply() : -1;
        if (end < 0) {
          ++failed;
          break;
        }
        if (end / 100 != 2) {
          ++rejected;
          continue;
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
  double start_unix = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::thread> threads;
  for (int i = 0; i < sessions; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf(
      "{\"accepted\":%d,\"rejected\":%d,\"failed\":%d,\"seconds\":%.3f,\"accepted_per_s\":%.1f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"start_unix\":%.6f}\n",
      ok.load(), rejected.load(), failed.load(), secs, ok / secs, pct(0.50), pct(0.99), start_unix);
  return failed > 0 ? 1 : 0;
}

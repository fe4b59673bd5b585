// TLS-RPT (RFC 8460) checks for integration tests: send today's reports of a
// running gateway with `mailmoat tlsrpt report --today` until one goes out
// (results are written off the event loop, so the first run may find none),
// then summarise the gzip JSON an https rua (tests/integration/scripts/
// https_server.py) received, one line per policy (scripts/tlsrpt_summary.py).
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

inline std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The summary of the report POSTed into `posted_dir`, or "no report: <what the command said>".
inline std::string tlsrpt_report_summary(const Gateway& gw, const std::string& posted_dir,
                                         std::chrono::seconds timeout = std::chrono::seconds(40)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string said;
  while (std::chrono::steady_clock::now() < until) {
    auto r = run({"tlsrpt", "report", "--today", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                  "http.listen=" + gw.http_address()});
    said = r.out + r.err;
    if (said.find("  sent") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (said.find("  sent") == std::string::npos) return "no report: " + said;
  return command_output("python3 " + std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/tlsrpt_summary.py " +
                        posted_dir + "/posted.bin");
}

}  // namespace mailmoat::testing

// kill -9 at random moments during a load of a few thousand messages: after
// a restart, every message that was acknowledged with 250 is delivered at
// least once (counted in the Maildir sink).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

TEST(CrashRecovery, NoAcknowledgedMessageIsLostAcrossKill9) {
  const int port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> overrides{"smtp.listener.0.address=" + address, "smtp.max_connections_per_ip=1000",
                                           "smtp.max_connection_rate_per_ip=1000000"};
  Gateway gw;
  ASSERT_TRUE(gw.start(overrides)) << gw.log();

  std::atomic<int> next_seq{0};
  std::atomic<bool> done{false};
  std::mutex mu;
  std::set<int> acked;
  const int target = 2000;
  std::string body;
  for (int i = 0; i < 20; ++i) body += std::string(98, 'x') + "\r\n";
  auto client = [&] {
    while (!done) {
      SmtpClient c;
      if (!c.connect(address)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (reply_code(c.reply(2000)) != 220 || reply_code(c.command("EHLO load.test")) != 250) continue;
      for (int i = 0; i < 20 && !done; ++i) {
        int seq = next_seq++;
        if (seq >= target) {
          done = true;
          break;
        }
        if (reply_code(c.command("MAIL FROM:<load@sender.test>")) != 250) break;
        if (reply_code(c.command("RCPT TO:<sink@localhost>")) != 250) break;
        if (reply_code(c.command("DATA")) != 354) break;
        c.send("Subject: load " + std::to_string(seq) + "\r\nX-Seq: " + std::to_string(seq) + "\r\n\r\n" +
               body + ".\r\n");
        if (reply_code(c.reply(5000)) == 250) {
          std::lock_guard lock(mu);
          acked.insert(seq);
        } else {
          break;
        }
      }
    }
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) clients.emplace_back(client);
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  while (!done && kills < 8) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 700)(rng)));
    gw.kill9();
    ++kills;
    ASSERT_TRUE(gw.start(overrides)) << gw.log();
  }
  // The clients stop at the target; a gateway that died by itself (a crash,
  // a ThreadSanitizer report in make test-tsan) must not leave them retrying
  // forever: the assertions below then say what was lost.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!done && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  done = true;
  for (auto& t : clients) t.join();

  // A last restart drains what the last run left in the queue.
  gw.kill9();
  ASSERT_TRUE(gw.start(overrides)) << gw.log();
  // Wait until every acknowledged message is in the Maildir (duplicates are allowed:
  // delivery is at least once, so the file count alone proves nothing).
  std::set<int> delivered;
  std::vector<std::string> mail;
  std::regex seq_re("X-Seq: (\\d+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (;;) {
    mail = mailbox(gw.data_dir(), "sink@localhost");
    delivered.clear();
    for (const auto& m : mail) {
      std::smatch match;
      if (std::regex_search(m, match, seq_re)) delivered.insert(std::stoi(match[1]));
    }
    bool all = std::all_of(acked.begin(), acked.end(), [&](int s) { return delivered.count(s) > 0; });
    if (all || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::vector<int> lost;
  for (int s : acked)
    if (!delivered.count(s)) lost.push_back(s);
  EXPECT_GE(kills, 3);
  EXPECT_GT(acked.size(), 500u);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged messages were lost, first " << lost.front();
  std::printf("crash test: %d kills, %zu acknowledged, %zu delivered (%zu files)\n", kills, acked.size(),
              delivered.size(), mail.size());
}

}  // namespace mailmoat::testing

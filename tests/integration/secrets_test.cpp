// Secrets never leave in logs, traces or API answers (issue 13): a full run at
// log level trace (mail in and out, DKIM signing, Safe Links, API tokens made
// and used, a refused token, a store URL with a password) and then a grep of
// everything the gateway wrote and answered for each secret.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace mailmoat::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult cli(const Gateway& gw, std::vector<std::string> args) {
  for (const auto& a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                        "http.listen=" + gw.http_address()})
    args.push_back(a);
  return run(args);
}

// Pieces of a PEM key's base64 body (any 24 characters would identify it).
std::vector<std::string> key_pieces(const std::string& pem) {
  std::vector<std::string> out;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("-----") && line.size() >= 24) out.push_back(line.substr(0, 24));
  return out;
}

TEST(Secrets, NoKeyTokenOrPasswordAppearsInLogsTracesOrApiAnswers) {
  TempDir d;
  auto kg = run({"keygen", "--domain", "example.com", "--selector", "s1", "--out", d.file("s1.pem")});
  ASSERT_EQ(kg.exit_code, 0) << kg.err;
  SmtpSink sink;
  Gateway gw;
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  ASSERT_TRUE(gw.start({"log.level=trace", "http.listen=" + http, "links.public_url=http://" + http, "smtp.listener.1.name=relay", "smtp.listener.1.role=relay",
                        "smtp.listener.1.address=127.0.0.1:0", "route.0.domains=[\"localhost\"]",
                        "route.0.transport=maildir", "route.1.domains=[\"*\"]", "route.1.transport=relay",
                        "route.1.next_hop=[127.0.0.1]:" + std::to_string(sink.port()),
                        "dkim.key.0.domain=example.com", "dkim.key.0.selector=s1",
                        "dkim.key.0.key_file=" + d.file("s1.pem"), "links.enabled=true"}))
      << gw.log();

  // Mail in (links rewritten) and out (signed).
  SmtpClient in;
  ASSERT_TRUE(in.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(in.send_message("a@sender.test", {"u@localhost"},
                                       "From: a@sender.test\r\nSubject: in\r\n\r\nsee http://example.org/x\r\n")),
            250);
  SmtpClient out;
  ASSERT_TRUE(out.connect(gw.smtp_address("relay")));
  ASSERT_EQ(reply_code(out.send_message("joe@example.com", {"sue@remote.test"},
                                        "From: joe@example.com\r\nSubject: out\r\n\r\nhello\r\n")),
            250);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u) << gw.log();
  ASSERT_EQ(sink.wait_for(1).size(), 1u) << gw.log();

  // API tokens: made, used, and a wrong one refused.
  auto made = cli(gw, {"admin", "token", "create", "--name", "ops", "--role", "admin"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string token = made.out.substr(0, made.out.find('\n'));
  ASSERT_GE(token.size(), 32u);
  std::string answers;
  for (const std::string target : {"/api/v1/trace", "/api/v1/tokens", "/api/v1/audit", "/api/v1/stats"})
    answers += http_request(gw.http_address(), "GET", target, "", {"Authorization: Bearer " + token}).body;
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/trace", "", {"Authorization: Bearer mmt_wrong0123456789"})
                .status,
            401);
  auto listed = cli(gw, {"trace", "search", "--json"});
  answers += listed.out + listed.err;
  ASSERT_NE(answers.find("\"ops\""), std::string::npos) << answers;  // the token's name is shown

  // What must not be anywhere.
  std::vector<std::string> secrets = key_pieces(slurp(d.file("s1.pem")));
  ASSERT_FALSE(secrets.empty());
  secrets.push_back(token);
  const std::string bootstrap = slurp(gw.data_dir() + "/var/admin.token");
  if (!bootstrap.empty()) secrets.push_back(bootstrap.substr(0, bootstrap.find('\n')));
  for (const auto& piece : key_pieces(slurp(gw.data_dir() + "/var/links.key"))) secrets.push_back(piece);
  const std::string links_key = slurp(gw.data_dir() + "/var/links.key");
  if (!links_key.empty() && links_key.find("-----") == std::string::npos)
    secrets.push_back(links_key.substr(0, std::min<std::size_t>(links_key.find('\n'), 32)));
  gw.stop();
  const std::string log = gw.log();
  ASSERT_NE(log.find("debug smtp.connect"), std::string::npos) << log.substr(0, 4000);  // trace level did log
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(log.find(s), std::string::npos) << "secret in the log: " << s;
    EXPECT_EQ(answers.find(s), std::string::npos) << "secret in an API answer: " << s;
  }
}

TEST(Secrets, AStoreUrlPasswordIsNotPrintedWhenTheStoreCannotBeReached) {
  TempDir d;
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "smtp.listener.0.address=127.0.0.1:0", "--set",
                "server.data_dir=" + d.file("var"), "--set",
                "store.url=postgresql://mailmoat:S3cretPw0rd@127.0.0.1:" + std::to_string(free_port()) + "/mailmoat"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("store"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("S3cretPw0rd"), std::string::npos) << r.err;
  auto shown = run({"config", "show", "--set", "store.url=postgresql://mailmoat:S3cretPw0rd@db.example/mailmoat"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.find("S3cretPw0rd"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::testing

// Who may use the admin API: every route refuses a request without a token
// (401), viewer tokens read but may not act (403), admin tokens act and are
// named in the audit log, cross-site browser requests are refused, revoked
// tokens stop working, and tokens are shown once and stored only as hashes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "harness.h"

namespace mailmoat::testing {

namespace {

CommandResult cli(const Gateway& gw, std::vector<std::string> args) {
  for (const auto& a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                        "http.listen=" + gw.http_address()})
    args.push_back(a);
  return run(args);
}

std::string create_token(const Gateway& gw, const std::string& name, const std::string& role) {
  auto r = cli(gw, {"admin", "token", "create", "--name", name, "--role", role});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string t = r.out.substr(0, r.out.find('\n'));
  return t;
}

int status(const Gateway& gw, const std::string& method, const std::string& target, const std::string& token,
           const std::vector<std::string>& extra = {}) {
  std::vector<std::string> headers = extra;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return http_request(gw.http_address(), method, target, method == "POST" ? "{}" : "", headers).status;
}

}  // namespace

TEST(AdminApi, EveryRouteNeedsAToken) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  const std::vector<std::pair<std::string, std::string>> routes{
      {"GET", "/api/v1/queue"},           {"GET", "/api/v1/queue/ABC"},
      {"POST", "/api/v1/queue/retry"},    {"POST", "/api/v1/queue/ABC/hold"},
      {"GET", "/api/v1/trace"},           {"GET", "/api/v1/trace/ABC"},
      {"GET", "/api/v1/quarantine"},      {"GET", "/api/v1/quarantine/1"},
      {"GET", "/api/v1/quarantine/1/message"}, {"POST", "/api/v1/quarantine/1/release"},
      {"POST", "/api/v1/quarantine/1/delete"}, {"GET", "/api/v1/audit"},
      {"GET", "/api/v1/tokens"},          {"POST", "/api/v1/tokens"},
      {"POST", "/api/v1/tokens/x/revoke"}, {"GET", "/api/v1/quarantine/1/preview"},
      {"POST", "/api/v1/quarantine/1/allow-sender"}, {"POST", "/api/v1/quarantine/1/false-positive"},
      {"GET", "/api/v1/false-positives"}, {"POST", "/api/v1/rules/reload"}, {"POST", "/api/v1/rules/test"},
      {"POST", "/api/v1/quarantine/digest"}, {"GET", "/api/v1/quarantine/requests"}};
  for (const auto& [method, path] : routes) {
    EXPECT_EQ(status(gw, method, path, ""), 401) << method << " " << path;
    EXPECT_EQ(status(gw, method, path, "mmt_0000000000000000000000000000000000000000000000000000000000000000"), 401)
        << method << " " << path;
  }
}

TEST(AdminApi, ViewersReadAdminsActAndTheAuditLogNamesThem) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  const std::string viewer = create_token(gw, "helpdesk", "viewer");
  const std::string admin = create_token(gw, "ops", "admin");
  ASSERT_EQ(viewer.size(), 68u) << viewer;
  ASSERT_NE(viewer, admin);

  EXPECT_EQ(status(gw, "GET", "/api/v1/queue", viewer), 200);
  EXPECT_EQ(status(gw, "GET", "/api/v1/trace", viewer), 200);
  EXPECT_EQ(status(gw, "GET", "/api/v1/quarantine", viewer), 200);
  EXPECT_EQ(status(gw, "POST", "/api/v1/queue/retry", viewer), 403);
  EXPECT_EQ(status(gw, "GET", "/api/v1/quarantine/1/message", viewer), 403);
  EXPECT_EQ(status(gw, "POST", "/api/v1/quarantine/1/delete", viewer), 403);
  EXPECT_EQ(status(gw, "GET", "/api/v1/audit", viewer), 403);
  EXPECT_EQ(status(gw, "GET", "/api/v1/tokens", viewer), 403);

  EXPECT_EQ(status(gw, "POST", "/api/v1/queue/retry", admin), 200);
  auto audit = http_request(gw.http_address(), "GET", "/api/v1/audit", {}, {"Authorization: Bearer " + admin});
  ASSERT_EQ(audit.status, 200);
  std::string actors;
  const auto entries = nlohmann::json::parse(audit.body)["entries"];
  for (const auto& e : entries)
    actors += e["actor"].get<std::string>() + ":" + e["action"].get<std::string>() + " ";
  EXPECT_NE(actors.find("token:ops:queue.retry"), std::string::npos) << actors;
  EXPECT_NE(actors.find("admin-token:token.create"), std::string::npos) << actors;

  // A browser on another site cannot use the API, token or not.
  EXPECT_EQ(status(gw, "GET", "/api/v1/queue", admin, {"Origin: https://evil.example"}), 403);
  EXPECT_EQ(status(gw, "POST", "/api/v1/queue/retry", admin, {"Sec-Fetch-Site: cross-site"}), 403);

  // Listed by name and role; the tokens themselves are nowhere.
  auto list = cli(gw, {"admin", "token", "list"});
  EXPECT_NE(list.out.find("helpdesk"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("ops"), std::string::npos);
  EXPECT_EQ(list.out.find(viewer), std::string::npos);
  std::ifstream db(gw.data_dir() + "/var/mailmoat.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(viewer), std::string::npos);
  EXPECT_EQ(cli(gw, {"admin", "token", "create", "--name", "ops", "--role", "admin"}).exit_code, 1);
  EXPECT_NE(cli(gw, {"admin", "token", "create", "--name", "x", "--role", "root"}).exit_code, 0);

  ASSERT_EQ(cli(gw, {"admin", "token", "revoke", "helpdesk"}).exit_code, 0);
  EXPECT_EQ(status(gw, "GET", "/api/v1/queue", viewer), 401);
  EXPECT_EQ(cli(gw, {"admin", "token", "revoke", "helpdesk"}).exit_code, 1);
}

TEST(AdminApi, HttpsListenerServesTheCliAndRefusesPlainHttpAndOldTls) {
  TempDir certs;
  ASSERT_EQ(std::system(("cd " + certs.path() +
                         " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
                         " -subj /CN=admin.mailmoat.test -keyout key.pem -out cert.pem 2>/dev/null")
                            .c_str()),
            0);
  Gateway gw;
  ASSERT_TRUE(gw.start({"http.tls_cert=\"" + certs.file("cert.pem") + "\"", "http.tls_key=\"" + certs.file("key.pem") + "\""}))
      << gw.log();
  // The CLI speaks HTTPS and trusts exactly the configured certificate.
  auto q = run({"queue", "list", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                "http.listen=" + gw.http_address(), "--set", "http.tls_cert=\"" + certs.file("cert.pem") + "\"",
                "--set", "http.tls_key=\"" + certs.file("key.pem") + "\""});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  // Plain HTTP gets no answer from it.
  EXPECT_NE(http_request(gw.http_address(), "GET", "/healthz").status, 200);
  const std::string connect = "openssl s_client -connect " + gw.http_address() + " </dev/null >/dev/null 2>&1";
  EXPECT_EQ(std::system((connect + " -tls1_2").c_str()), 0);
  EXPECT_NE(std::system((connect + " -tls1_1").c_str()), 0);
  EXPECT_NE(std::system((connect + " -tls1_2 -cipher AES128-SHA").c_str()), 0);
  // A CLI trusting another certificate refuses to talk.
  TempDir other;
  ASSERT_EQ(std::system(("cd " + other.path() +
                         " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
                         " -subj /CN=other -keyout key.pem -out cert.pem 2>/dev/null")
                            .c_str()),
            0);
  auto wrong = run({"queue", "list", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                    "http.listen=" + gw.http_address(), "--set", "http.tls_cert=\"" + other.file("cert.pem") + "\"",
                    "--set", "http.tls_key=\"" + other.file("key.pem") + "\""});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("TLS handshake failed"), std::string::npos) << wrong.err;
}

TEST(AdminApi, NonLoopbackListenerWithoutTlsIsAConfigurationError) {
  auto r = run({"config", "show", "--set", "http.listen=0.0.0.0:8025"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("not a loopback address"), std::string::npos) << r.out << r.err;
}

}  // namespace mailmoat::testing

// Console sign-in through the real HTTP listener of `mailmoat serve`: accounts
// made with `mailmoat admin user create` (password on stdin), a session cookie
// that is HttpOnly and SameSite=Strict, CSRF tokens on every state change,
// roles enforced for sessions as for tokens, sign-out, the per-account and
// per-address lockout with 429 + Retry-After, and failures in the audit log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace mailmoat::testing {

namespace {

CommandResult cli(const Gateway& gw, std::vector<std::string> args, const std::string& input = {}) {
  for (const auto& a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                        "http.listen=" + gw.http_address()})
    args.push_back(a);
  return run(args, input);
}

std::string header_value(const std::string& headers, const std::string& name) {
  std::istringstream in(headers);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
        line[name.size()] == ':') {
      std::string v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      return v;
    }
  }
  return {};
}

struct Login {
  int status = 0;
  std::string cookie;  // "mailmoat_session=..."
  std::string set_cookie;
  std::string retry_after;
  nlohmann::json body;
};

Login login(const Gateway& gw, const std::string& user, const std::string& password) {
  auto r = http_request(gw.http_address(), "POST", "/api/v1/session",
                        nlohmann::json{{"user", user}, {"password", password}}.dump(),
                        {"Content-Type: application/json"});
  Login l;
  l.status = r.status;
  l.set_cookie = header_value(r.headers, "Set-Cookie");
  l.cookie = l.set_cookie.substr(0, l.set_cookie.find(';'));
  l.retry_after = header_value(r.headers, "Retry-After");
  l.body = nlohmann::json::parse(r.body, nullptr, false);
  return l;
}

int call(const Gateway& gw, const std::string& method, const std::string& target, const Login& l,
         const std::string& csrf) {
  std::vector<std::string> h{"Cookie: " + l.cookie};
  if (!csrf.empty()) h.push_back("X-CSRF-Token: " + csrf);
  return http_request(gw.http_address(), method, target, method == "GET" ? "" : "{}", h).status;
}

}  // namespace

TEST(ConsoleAuth, UsersSignInWithSessionsCsrfAndRoles) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  auto made = cli(gw, {"admin", "user", "create", "--name", "alice", "--role", "admin"}, "alice password 1\n");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  TempDir d;
  d.write("pw", "viewer password 2\n");
  made = cli(gw, {"admin", "user", "create", "--name", "victor", "--role", "viewer", "--password-file", d.file("pw")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto listed = cli(gw, {"admin", "user", "list"});
  EXPECT_NE(listed.out.find("alice"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("victor"), std::string::npos);
  EXPECT_EQ(listed.out.find("password"), std::string::npos);

  auto alice = login(gw, "alice", "alice password 1");
  ASSERT_EQ(alice.status, 200) << alice.body.dump();
  EXPECT_EQ(alice.body.value("role", ""), "admin");
  EXPECT_NE(alice.set_cookie.find("HttpOnly"), std::string::npos) << alice.set_cookie;
  EXPECT_NE(alice.set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(alice.set_cookie.find("Secure"), std::string::npos) << "plain HTTP on loopback";
  const std::string csrf = alice.body.value("csrf", "");
  ASSERT_EQ(csrf.size(), 64u);

  EXPECT_EQ(call(gw, "GET", "/api/v1/session", alice, ""), 200);
  EXPECT_EQ(call(gw, "GET", "/api/v1/queue", alice, ""), 200);
  EXPECT_EQ(call(gw, "POST", "/api/v1/queue/retry", alice, ""), 403) << "no CSRF token";
  EXPECT_EQ(call(gw, "POST", "/api/v1/queue/retry", alice, std::string(64, '0')), 403) << "wrong CSRF token";
  EXPECT_EQ(call(gw, "POST", "/api/v1/queue/retry", alice, csrf), 200);

  auto victor = login(gw, "victor", "viewer password 2");
  ASSERT_EQ(victor.status, 200);
  const std::string vcsrf = victor.body.value("csrf", "");
  EXPECT_EQ(call(gw, "GET", "/api/v1/trace", victor, ""), 200);
  EXPECT_EQ(call(gw, "POST", "/api/v1/quarantine/1/release", victor, vcsrf), 403) << "viewers cannot act";
  EXPECT_EQ(call(gw, "GET", "/api/v1/users", victor, ""), 403);

  // Sign-out needs the CSRF token, then the cookie is dead.
  EXPECT_EQ(call(gw, "DELETE", "/api/v1/session", victor, ""), 403);
  EXPECT_EQ(call(gw, "DELETE", "/api/v1/session", victor, vcsrf), 200);
  EXPECT_EQ(call(gw, "GET", "/api/v1/trace", victor, ""), 401);
  EXPECT_EQ(call(gw, "GET", "/api/v1/session", victor, ""), 401);

  // Deleting an account ends its sessions at once.
  auto del = cli(gw, {"admin", "user", "delete", "alice"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(call(gw, "GET", "/api/v1/queue", alice, ""), 401);

  // The audit log names the account for what it did with its session.
  auto token = cli(gw, {"admin", "token", "create", "--name", "auditor", "--role", "admin"});
  auto audit = http_request(gw.http_address(), "GET", "/api/v1/audit", {},
                            {"Authorization: Bearer " + token.out.substr(0, token.out.find('\n'))});
  EXPECT_NE(audit.body.find("user:alice"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("session.login"), std::string::npos);
  EXPECT_NE(audit.body.find("user.create"), std::string::npos);

  // Passwords are never written to the log or stored in clear.
  EXPECT_EQ(gw.log().find("alice password 1"), std::string::npos);
  std::string bytes;  // the database and its write-ahead log
  for (const char* f : {"/var/mailmoat.db", "/var/mailmoat.db-wal"}) {
    std::ifstream db(gw.data_dir() + f, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(db), {});
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("viewer password 2"), std::string::npos);
  EXPECT_NE(bytes.find("$argon2id$"), std::string::npos);
}

TEST(ConsoleAuth, RepeatedFailuresLockTheAccountWith429AndAreAudited) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  ASSERT_EQ(cli(gw, {"admin", "user", "create", "--name", "bob", "--role", "viewer"}, "bob password 11\n").exit_code, 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login(gw, "bob", "guess number " + std::to_string(i)).status, 401);
  auto locked = login(gw, "bob", "bob password 11");
  EXPECT_EQ(locked.status, 429) << "even the right password, while locked";
  int retry = std::atoi(locked.retry_after.c_str());
  EXPECT_GT(retry, 800);
  EXPECT_LE(retry, 900);
  // The client address is locked too: another account from the same address waits.
  EXPECT_EQ(login(gw, "nobody", "whatever password").status, 429);

  auto token = cli(gw, {"admin", "token", "create", "--name", "auditor", "--role", "admin"});
  auto audit = http_request(gw.http_address(), "GET", "/api/v1/audit", {},
                            {"Authorization: Bearer " + token.out.substr(0, token.out.find('\n'))});
  auto entries = nlohmann::json::parse(audit.body)["entries"];
  int failed = 0, refused = 0;
  for (const auto& e : entries) {
    failed += e.value("action", "") == "session.login_failed";
    refused += e.value("action", "") == "session.login_refused";
  }
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(gw.log().find("guess number"), std::string::npos);
}

TEST(ConsoleAuth, OverHttpsTheCookieIsSecure) {
  TempDir certs;
  ASSERT_EQ(std::system(("cd " + certs.path() +
                         " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
                         " -subj /CN=admin.mailmoat.test -keyout key.pem -out cert.pem 2>/dev/null")
                            .c_str()),
            0);
  const std::vector<std::string> tls{"http.tls_cert=\"" + certs.file("cert.pem") + "\"",
                                     "http.tls_key=\"" + certs.file("key.pem") + "\""};
  Gateway gw;
  ASSERT_TRUE(gw.start(tls)) << gw.log();
  std::vector<std::string> args{"admin", "user", "create", "--name", "sam", "--role", "viewer"};
  for (const auto& t : tls) args.insert(args.end(), {"--set", t});
  ASSERT_EQ(cli(gw, args, "sam password 123\n").exit_code, 0);
  certs.write("body.json", R"({"user":"sam","password":"sam password 123"})");
  const std::string cmd = "curl -sk -i -X POST -H 'Content-Type: application/json' --data-binary @" +
                          certs.file("body.json") + " https://" + gw.http_address() + "/api/v1/session";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  const std::string cookie = header_value(out.substr(out.find('\n') + 1), "Set-Cookie");
  EXPECT_NE(cookie.find("mailmoat_session="), std::string::npos) << out;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
}

TEST(ConsoleAuth, BadSignInBodiesGetClearErrors) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  for (const std::string body : {"", "[]", "{\"user\":1,\"password\":\"x\"}", "{\"user\":\"a\"}",
                                 "{\"user\":\"a\",\"password\":\"b\",\"extra\":\"c\"}"}) {
    auto r = http_request(gw.http_address(), "POST", "/api/v1/session", body, {});
    EXPECT_EQ(r.status, 400) << body;
  }
  auto cross = http_request(gw.http_address(), "POST", "/api/v1/session", R"({"user":"a","password":"b"})",
                            {"Origin: https://evil.example"});
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/users", "", {}).status, 401);
}

}  // namespace mailmoat::testing

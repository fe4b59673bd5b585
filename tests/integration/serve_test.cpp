#include <signal.h>
#include <sys/stat.h>

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "harness.h"

namespace mailmoat::testing {

TEST(Serve, AnswersHealthzWithVersionAndUptime) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  auto reply = http_request(gw.http_address(), "GET", "/healthz");
  EXPECT_EQ(reply.status, 200);
  auto j = nlohmann::json::parse(reply.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_TRUE(j.contains("version"));
  EXPECT_GE(j["uptime_seconds"].get<double>(), 0.0);
  EXPECT_EQ(gw.stop(), 0);
}

TEST(Serve, ServesPrometheusMetrics) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  http_request(gw.http_address(), "GET", "/healthz");
  auto reply = http_request(gw.http_address(), "GET", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("# TYPE mailmoat_uptime_seconds gauge"), std::string::npos);
  EXPECT_NE(reply.body.find("mailmoat_http_requests_total{path=\"/healthz\"} 1"), std::string::npos) << reply.body;
}

TEST(Serve, MetricsCountMessagesDeliveriesDnsAndFilterTimes) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@example.org", {"u@localhost"}, "From: a@example.org\r\nSubject: m\r\n\r\nb\r\n")),
            250);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u);
  std::string body;
  for (int i = 0; i < 50; ++i) {
    body = http_request(gw.http_address(), "GET", "/metrics").body;
    if (body.find("mailmoat_delivery_latency_seconds_count 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const char* line : {"mailmoat_messages_total{direction=\"inbound\",verdict=\"accepted\"} 1",
                           "mailmoat_delivery_attempts_total{outcome=\"delivered\"} 1",
                           "mailmoat_delivery_latency_seconds_count 1", "mailmoat_filter_seconds_count{filter=\"auth\"} 1",
                           "mailmoat_queue_messages{state=\"active\"} 0", "mailmoat_trace_spill_bytes 0",
                           "mailmoat_trace_store_down 0", "# TYPE mailmoat_dns_query_seconds histogram",
                           "mailmoat_dns_query_seconds_count{type=\"TXT\"}"})
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n" << body;
}

TEST(Serve, UnknownPathIs404AndWrongMethodIs405) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/nope").status, 404);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/healthz").status, 405);
}

TEST(Serve, SigtermStopsGracefullyWithStatusZero) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_EQ(gw.stop(), 0);
  EXPECT_NE(gw.log().find("serve.stopped"), std::string::npos);
}

TEST(Serve, SighupReloadsTheConfiguration) {
  TempDir d;
  d.write("m.toml", "[log]\nlevel = \"info\"\n");
  Gateway gw;
  ASSERT_TRUE(gw.start({}, d.file("m.toml"))) << gw.log();
  d.write("m.toml", "[log]\nlevel = \"nonsense\"\n");
  kill(gw.pid(), SIGHUP);
  for (int i = 0; i < 100 && gw.log().find("config.reload_failed") == std::string::npos; ++i) usleep(20000);
  EXPECT_NE(gw.log().find("config.reload_failed"), std::string::npos) << gw.log();
  d.write("m.toml", "[log]\nlevel = \"debug\"\n");
  kill(gw.pid(), SIGHUP);
  for (int i = 0; i < 100 && gw.log().find("config.reloaded") == std::string::npos; ++i) usleep(20000);
  EXPECT_NE(gw.log().find("config.reloaded"), std::string::npos);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/healthz").status, 200);
}

TEST(Serve, JsonLogFormatWritesOneObjectPerLine) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"log.format=json"})) << gw.log();
  gw.stop();
  std::istringstream lines(gw.log());
  std::string line;
  bool started = false;
  int count = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("event")) << line;
    started |= j["event"] == "serve.started";
    ++count;
  }
  EXPECT_GT(count, 1);
  EXPECT_TRUE(started);
}

TEST(Serve, MalformedConfigurationStartsNothing) {
  TempDir d;
  d.write("bad.toml", "[server]\nthreads = 0\n");
  auto r = run({"serve", "-c", d.file("bad.toml"), "--set", "http.listen=127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad.toml") + ":2: server.threads: value 0 is out of range"), std::string::npos)
      << r.err;
}

TEST(Serve, PortInUseIsOneClearLineAndExit1) {
  Gateway first;
  ASSERT_TRUE(first.start()) << first.log();
  TempDir d;
  auto r = run({"serve", "--set", "http.listen=" + first.http_address(), "--set", "server.data_dir=" + d.file("var")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen on " + first.http_address() + ": Address already in use"), std::string::npos)
      << r.err;
}

TEST(Serve, UnwritableDataDirectoryIsOneClearLineAndExit1) {
  TempDir d;
  d.write("file", "x");  // a regular file where a directory is expected
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "server.data_dir=" + d.file("file") + "/var"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("data directory"), std::string::npos) << r.err;
}

TEST(Serve, MissingTlsFileIsOneClearLineAndExit1) {
  TempDir d;
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "server.data_dir=" + d.file("var"), "--set",
                "smtp.listener.0.tls_cert=/nonexistent/cert.pem", "--set",
                "smtp.listener.0.tls_key=/nonexistent/key.pem"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read TLS file /nonexistent/cert.pem"), std::string::npos) << r.err;
}

}  // namespace mailmoat::testing

#include "app/serve.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/config.h"
#include "http/server.h"
#include "log/log.h"

namespace mailmoat::app {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void fatal(const std::string& message) { std::fprintf(stderr, "mailmoat: error: %s\n", message.c_str()); }

// The data directory must exist and accept a durable write before we accept mail into it.
std::string check_data_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "data directory " + dir + " cannot be created: " + ec.message();
  std::string probe = (fs::path(dir) / ".write-test").string();
  int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "data directory " + dir + " is not writable: " + std::strerror(errno);
  bool ok = ::write(fd, "x", 1) == 1 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!ok) return "data directory " + dir + " is not writable: " + std::strerror(saved);
  return {};
}

std::string check_tls_files(const Config& cfg) {
  for (std::size_t i = 0; i < cfg.smtp.listeners.size(); ++i) {
    const auto& l = cfg.smtp.listeners[i];
    for (const std::string* file : {&l.tls_cert, &l.tls_key}) {
      if (file->empty()) continue;
      std::ifstream in(*file);
      if (!in)
        return "smtp.listener[" + std::to_string(i) + "] (" + l.name + "): cannot read TLS file " + *file + ": " +
               std::strerror(errno);
    }
  }
  return {};
}

struct Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& http_requests =
      prometheus::BuildCounter().Name("mailmoat_http_requests_total").Help("HTTP requests answered").Register(*registry);
  prometheus::Gauge& uptime = prometheus::BuildGauge()
                                  .Name("mailmoat_uptime_seconds")
                                  .Help("Seconds since the gateway started")
                                  .Register(*registry)
                                  .Add({});
  prometheus::Gauge& build_info = prometheus::BuildGauge()
                                      .Name("mailmoat_build_info")
                                      .Help("Build information; the value is always 1")
                                      .Register(*registry)
                                      .Add({{"version", MAILMOAT_VERSION}});
};

void write_ready_file(const std::string& path, const nlohmann::json& j) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump() << '\n';
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int serve(const ServeOptions& options) {
  LoadResult loaded = load_config(options.config_path, options.overrides);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    fatal("the configuration has errors; nothing was started");
    return 1;
  }
  Config cfg = loaded.config;
  if (options.log_format) cfg.log.format = *options.log_format;
  log::init(*log::parse_level(cfg.log.level), *log::parse_format(cfg.log.format));

  if (auto err = check_data_dir(cfg.server.data_dir); !err.empty()) {
    fatal(err);
    return 1;
  }
  if (auto err = check_tls_files(cfg); !err.empty()) {
    fatal(err);
    return 1;
  }

  const auto started = Clock::now();
  asio::io_context io(static_cast<int>(cfg.server.threads));
  Metrics metrics;

  http::Router router;
  router.add("GET", "/healthz", [&](const http::Request&) {
    metrics.http_requests.Add({{"path", "/healthz"}}).Increment();
    double up = std::chrono::duration<double>(Clock::now() - started).count();
    nlohmann::json j{{"status", "ok"}, {"version", MAILMOAT_VERSION}, {"uptime_seconds", up}};
    return http::Response::json(200, j.dump());
  });
  router.add("GET", "/metrics", [&](const http::Request&) {
    metrics.http_requests.Add({{"path", "/metrics"}}).Increment();
    metrics.uptime.Set(std::chrono::duration<double>(Clock::now() - started).count());
    http::Response r = http::Response::text(200, prometheus::TextSerializer().Serialize(metrics.registry->Collect()));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });

  http::Server http_server(io, router);
  auto http_bound = http_server.listen(cfg.http.listen);
  if (!http_bound) {
    fatal("http.listen: " + http_bound.error().message);
    return 1;
  }
  http_server.start();

  fs::path data_dir = fs::absolute(cfg.server.data_dir).lexically_normal();
  log::info("serve.started", {{"version", MAILMOAT_VERSION},
                              {"http", *http_bound},
                              {"data_dir", data_dir.string()},
                              {"threads", cfg.server.threads},
                              {"pid", static_cast<long>(::getpid())}});
  log::info("serve.not_yet_available", {{"what", "SMTP listeners"}, {"note", "HTTP health and metrics only"}});
  if (!options.ready_file.empty())
    write_ready_file(options.ready_file, {{"http", *http_bound}, {"data_dir", data_dir.string()}, {"pid", ::getpid()}});

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  asio::steady_timer shutdown_timer(io);
  bool stopping = false;
  Clock::time_point deadline;
  std::function<void()> poll_stop = [&] {
    if (http_server.active_connections() == 0 || Clock::now() >= deadline) {
      io.stop();
      return;
    }
    shutdown_timer.expires_after(std::chrono::milliseconds(50));
    shutdown_timer.async_wait([&](const boost::system::error_code&) { poll_stop(); });
  };
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        LoadResult again = load_config(options.config_path, options.overrides);
        if (!again.ok()) {
          for (const auto& e : again.errors) log::error("config.reload_failed", {{"error", e.to_string()}});
        } else {
          log::set_level(*log::parse_level(again.config.log.level));
          log::info("config.reloaded", {{"file", options.config_path.empty() ? "(defaults)" : options.config_path}});
        }
        wait_signal();
        return;
      }
      if (stopping) return;
      stopping = true;
      log::info("serve.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                   {"grace_seconds", cfg.server.shutdown_grace_seconds}});
      http_server.stop();
      signals.cancel();
      deadline = Clock::now() + std::chrono::seconds(cfg.server.shutdown_grace_seconds);
      poll_stop();
    });
  };
  wait_signal();

  std::vector<std::thread> threads;
  for (std::int64_t i = 1; i < cfg.server.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  log::info("serve.stopped", {});
  return 0;
}

}  // namespace mailmoat::app

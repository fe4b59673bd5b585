#include "app/records_setup.h"

#include <boost/asio.hpp>

#include "log/log.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace asio = boost::asio;

queue::QuarantineRetention quarantine_retention(const Config& config) {
  queue::QuarantineRetention r;
  r.fallback = std::chrono::hours(24 * config.quarantine.retention_days);
  for (const auto& entry : config.quarantine.retention_days_by_reason) {
    auto eq = entry.find('=');  // the schema checked "reason=days"
    auto days = util::parse_uint(std::string_view(entry).substr(eq + 1));
    if (eq == std::string::npos || !days) continue;
    r.by_reason[util::to_lower(entry.substr(0, eq))] = std::chrono::hours(24 * static_cast<std::int64_t>(*days));
  }
  return r;
}

struct Housekeeping::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, store::Stores& s, const Config& c)
      : timer(io), stores(s), trace_days(c.store.trace_retention_days), click_days(c.store.click_retention_days) {}

  asio::steady_timer timer;
  asio::thread_pool worker{1};
  store::Stores& stores;
  std::int64_t trace_days;
  std::int64_t click_days;
  bool stopped = false;

  void run_once() {
    using namespace std::chrono;
    const auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    const std::int64_t day = 86400ll * 1000000;
    auto report = [](const char* what, const util::Result<std::int64_t>& r) {
      if (!r) log::error("housekeeping.purge_failed", {{"what", what}, {"error", r.error().message}});
      else if (*r > 0) log::info("housekeeping.purged", {{"what", what}, {"rows", *r}});
    };
    report("quarantine", stores.quarantine->purge_expired(now));
    report("trace", stores.trace->purge(now - trace_days * day));
    report("clicks", stores.clicks->purge(now - click_days * day));
  }

  void schedule(std::chrono::seconds delay) {
    timer.expires_after(delay);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      asio::post(self->worker, [self] { self->run_once(); });
      self->schedule(std::chrono::hours(1));
    });
  }
};

Housekeeping::Housekeeping(asio::io_context& io, store::Stores& stores, const Config& config)
    : impl_(std::make_shared<Impl>(io, stores, config)) {}

// Joining its own worker cannot fail but by a bug, which ends the process either way (a
// joinable thread left behind terminates it too).
Housekeeping::~Housekeeping() {  // NOLINT(bugprone-exception-escape)
  stop();
  impl_->worker.join();
}

void Housekeeping::start() { impl_->schedule(std::chrono::seconds(5)); }

void Housekeeping::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace mailmoat::app

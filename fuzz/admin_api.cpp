// Fuzz target: the admin API's request bodies (issue 13), through the real
// routes. The first input byte picks a route that takes a JSON body (tokens,
// sign-in, users, quarantine release / false-positive, queue retry), the rest
// is the body, sent as the bootstrap administrator (sign-in needs no token).
// Behind the routes: a real SQLite store in a scratch directory, the real
// accounts, quarantine service and queue (opened, never started). Released
// messages go to a sink that accepts them, so a release's body decides the
// outcome, not the delivery. Every answer must be JSON with a status the
// contract allows; anything else (or a crash) is a finding.
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include "app/accounts.h"
#include "app/admin_api.h"
#include "app/api_auth.h"
#include "app/quarantine_actions.h"
#include "app/quarantine_api.h"
#include "app/quarantine_service.h"
#include "app/session_api.h"
#include "http/router.h"
#include "log/log.h"
#include "queue/manager.h"
#include "store/stores.h"

namespace {

using namespace mailmoat;

constexpr std::string_view kToken = "fuzz-bootstrap-token-0123456789abcdef";

// A clock that never moves: a sign-in lock-out, once reached, stays, so the
// harness does not run argon2 for every well-formed sign-in body.
class PinnedClock final : public store::Clock {
 public:
  store::Micros now() const override { return 1'800'000'000'000'000; }
};

class AcceptingSink final : public pipeline::MessageSink {
 public:
  std::string next_queue_id() override { return "FUZZ" + std::to_string(++n_); }
  void submit(pipeline::Submission, Done done) override { done(util::Result<void>{}); }

 private:
  std::uint64_t n_ = 0;
};

struct Api {
  std::filesystem::path dir;
  boost::asio::io_context io;
  std::unique_ptr<store::Stores> stores;
  PinnedClock clock;
  std::unique_ptr<app::ApiAuth> auth;
  std::unique_ptr<app::Accounts> accounts;
  std::unique_ptr<queue::QueueManager> queue;
  AcceptingSink sink;
  std::unique_ptr<app::QuarantineService> quarantine;
  std::unique_ptr<app::QuarantineActions> actions;
  http::Router router;

  Api() {
    log::set_level(log::Level::error);  // the routes log every action; keep the fuzzer's output readable
    dir = std::filesystem::temp_directory_path() / ("mailmoat-fuzz-admin-api-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "spool");
    auto opened = store::open("sqlite:" + (dir / "store.db").string(), dir.string());
    if (!opened) std::abort();
    stores = std::move(*opened);
    auth = std::make_unique<app::ApiAuth>(std::string(kToken), *stores->settings, *stores->audit);
    accounts = std::make_unique<app::Accounts>(*stores->settings, clock, 60);
    auth->use_accounts(*accounts);
    queue::QueueSettings qs;
    qs.spool_dir = (dir / "spool").string();
    queue = std::make_unique<queue::QueueManager>(io, qs);
    if (!queue->open()) std::abort();
    quarantine = std::make_unique<app::QuarantineService>(*stores->quarantine, *stores->audit, sink, "mx.example.com",
                                                          nullptr);
    actions = std::make_unique<app::QuarantineActions>(*quarantine, *stores->trace, *stores->settings, *stores->audit);
    app::add_token_routes(router, *auth);
    app::add_session_routes(router, *accounts, *auth);
    app::add_user_routes(router, *accounts, *auth);
    app::add_quarantine_routes(router, *quarantine, *auth, actions.get());
    app::add_queue_routes(router, *queue, *auth);
  }
  ~Api() { std::filesystem::remove_all(dir); }

  // A held item for release and false-positive to act on; released items stay released.
  void hold_one() {
    store::QuarantineItem item;
    item.queue_id = "QFUZZ";
    item.reason = "spam";
    item.policy = "fuzz";
    item.sender = "sender@example.org";
    item.recipients = {"a@example.com", "b@example.com"};
    item.subject = "held";
    item.raw = "From: sender@example.org\r\nTo: a@example.com\r\nSubject: held\r\n\r\nbody\r\n";
    item.size = static_cast<std::int64_t>(item.raw.size());
    item.created_at = clock.now();
    item.expires_at = clock.now() + 86'400'000'000LL;
    auto id = stores->quarantine->put(item);
    if (!id) std::abort();
    last_item = *id;
  }
  std::int64_t last_item = 0;
};

struct Route {
  const char* method;
  const char* path;  // "{id}": the held item
  bool signed_in;    // sent with the administrator's bearer token
};
constexpr Route kRoutes[] = {
    {"POST", "/api/v1/tokens", true},
    {"POST", "/api/v1/session", false},
    {"POST", "/api/v1/users", true},
    {"POST", "/api/v1/users/alice/password", true},
    {"POST", "/api/v1/quarantine/{id}/release", true},
    {"POST", "/api/v1/quarantine/{id}/false-positive", true},
    {"POST", "/api/v1/queue/retry", true},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Api api;
  if (size == 0) return 0;
  const Route& route = kRoutes[data[0] % std::size(kRoutes)];
  std::string path = route.path;
  if (auto at = path.find("{id}"); at != std::string::npos) {
    api.hold_one();
    path.replace(at, 4, std::to_string(api.last_item));
  }
  http::Request req;
  req.method = route.method;
  req.target = path;
  req.path = path;
  req.client_address = "127.0.0.1";
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  req.headers.emplace_back("Content-Type", "application/json");
  if (route.signed_in) req.headers.emplace_back("Authorization", "Bearer " + std::string(kToken));

  http::Response r = api.router.route(req);
  // The contract: every answer of these routes is a JSON object, and a bad
  // body is a 4xx, never a 5xx.
  if (r.status >= 500) std::abort();
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) std::abort();
  return 0;
}

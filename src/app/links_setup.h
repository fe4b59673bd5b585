// Wiring of Safe Links (docs/links.md) into `serve`: signing keys (from the
// configuration, or data_dir/links.key made at first start), the verdict
// engine and its list files, the filter's and the click service's settings,
// and the click recorder: clicks are queued from the HTTP threads and written
// by one thread, because store calls block and must stay off the event loop.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "filters/links/links_filter.h"
#include "http/click_service.h"
#include "http/router.h"
#include "util/error.h"

namespace mailmoat::store {
class ClickStore;
}

namespace mailmoat::app {

class ClickRecorder {
 public:
  explicit ClickRecorder(store::ClickStore& store);
  ~ClickRecorder();  // writes what is queued, then stops
  void add(store::ClickRecord click);

 private:
  void run();
  store::ClickStore& store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<store::ClickRecord> queue_;
  bool stopping_ = false;
  std::uint64_t dropped_ = 0;
  std::thread thread_;
};

struct LinksRuntime {
  filters::LinksConfig filter;
  std::shared_ptr<const http::ClickService> clicks;
  std::unique_ptr<ClickRecorder> recorder;
};

// The signing keys: `links.keys`, or the one in data_dir/links.key (created, mode 0600,
// when `create`; the CLI only reads).
util::Result<std::vector<std::string>> link_keys(const Config& config, bool create = true);
// `links.public_url`, or http://<http.listen> (which then must not use port 0).
util::Result<std::string> links_public_url(const Config& config);
util::Result<std::unique_ptr<LinksRuntime>> make_links_runtime(const Config& config, store::ClickStore& clicks);

class ApiAuth;
// GET /api/v1/clicks?recipient=&url_contains=&since=&limit=&cursor= (viewer).
void add_click_trace_routes(http::Router& router, store::ClickStore& clicks, const ApiAuth& auth);

}  // namespace mailmoat::app

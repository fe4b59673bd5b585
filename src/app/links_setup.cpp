#include "app/links_setup.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "http/shortener.h"
#include "log/log.h"
#include "store/stores.h"
#include "util/errno_message.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kClickBatch = 1000;  // clicks written in one transaction, at most
}  // namespace

ClickRecorder::ClickRecorder(store::ClickStore& store) : store_(store), thread_([this] { run(); }) {}

ClickRecorder::~ClickRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ClickRecorder::add(store::ClickRecord click) {
  {
    std::lock_guard lock(mutex_);
    // A flood of clicks must not grow memory without bound; the log keeps the count
    // (one line per 1000 dropped, so the flood does not move to the log).
    if (queue_.size() >= 100000) {
      if (dropped_++ % 1000 == 0)
        log::warn("links.clicks_not_recorded", {{"dropped_so_far", dropped_}, {"reason", "recorder queue full"}});
      return;
    }
    queue_.push_back(std::move(click));
    // The writer waits for the first click, then for a full batch (or its linger time):
    // the clicks between need not wake it.
    if (queue_.size() != 1 && queue_.size() != kClickBatch) return;
  }
  wake_.notify_one();
}

void ClickRecorder::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // A click waits up to kLinger for others to share its commit: one commit (a WAL write of
    // the table's and its indexes' last pages) per click would cost more than the click's rows.
    constexpr auto kLinger = std::chrono::milliseconds(20);
    wake_.wait_for(lock, kLinger, [this] { return stopping_ || queue_.size() >= kClickBatch; });
    // What has queued up goes in one transaction (at most kClickBatch clicks).
    std::vector<store::ClickRecord> batch;
    while (!queue_.empty()) {
      batch.clear();
      while (!queue_.empty() && batch.size() < kClickBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      if (auto r = store_.add_all(batch); !r)
        log::error("links.click_not_recorded",
                   {{"clicks", batch.size()}, {"first_url", batch.front().url}, {"error", r.error().message}});
      lock.lock();
    }
    if (stopping_) return;
  }
}

util::Result<std::vector<std::string>> link_keys(const Config& config, bool create) {
  if (!config.links.keys.empty()) return config.links.keys;
  fs::path path = fs::path(config.server.data_dir) / "links.key";
  std::ifstream in(path);
  if (in) {
    std::string key;
    std::getline(in, key);
    key = std::string(util::trim(key));
    if (key.size() < 16) return util::fail(path.string() + ": the key is shorter than 16 bytes");
    return std::vector<std::string>{key};
  }
  if (!create) return util::fail("no links.keys and no " + path.string());
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return util::fail("cannot draw a random link signing key");
  static constexpr char hex[] = "0123456789abcdef";
  std::string key;
  for (unsigned char c : raw) key += {hex[c >> 4], hex[c & 15]};
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail("cannot create " + path.string() + ": " + util::errno_message(errno));
  std::string line = key + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return util::fail("cannot write " + path.string());
  return std::vector<std::string>{key};
}

util::Result<std::string> links_public_url(const Config& config) {
  if (!config.links.public_url.empty()) return config.links.public_url;
  if (config.http.listen.ends_with(":0"))
    return util::fail("links.public_url must be set when http.listen uses port 0");
  return "http://" + config.http.listen;
}

namespace {

links::LinkPolicy to_policy(const LinkPolicyConfig& c) {
  links::LinkPolicy p;
  p.name = c.name.empty() ? "policy" : c.name;
  p.priority = static_cast<int>(c.priority);
  p.recipients = c.recipients;
  p.enabled = c.enabled;
  p.rewrite_internal = c.rewrite_internal;
  p.do_not_rewrite = c.do_not_rewrite;
  p.wait_for_verdict = c.wait_for_verdict;
  p.allow_click_through = c.allow_click_through;
  p.track_clicks = c.track_clicks;
  p.organization = c.organization;
  p.notice = c.notice;
  return p;
}

std::shared_ptr<links::UrlListFiles> list_files(const std::vector<std::string>& paths, std::int64_t seconds) {
  if (paths.empty()) return nullptr;
  auto files = std::make_shared<links::UrlListFiles>(paths, std::chrono::seconds(seconds));
  for (const auto& p : files->take_problems()) log::warn("links.list_problem", {{"problem", p}});
  return files;
}

}  // namespace

util::Result<std::unique_ptr<LinksRuntime>> make_links_runtime(const Config& config, store::ClickStore& clicks) {
  auto keys = link_keys(config);
  if (!keys) return util::fail(keys.error().message);
  auto url = links_public_url(config);
  if (!url) return util::fail(url.error().message);
  auto signer = links::LinkSigner::create(*url, *keys);
  if (!signer) return util::fail("links: " + signer.error().message);
  for (const auto& path : config.links.block_lists)
    if (!fs::exists(path)) return util::fail("links.block_lists: cannot read " + path);
  for (const auto& path : config.links.allow_lists)
    if (!fs::exists(path)) return util::fail("links.allow_lists: cannot read " + path);

  links::VerdictOptions vo;
  vo.protected_domains = config.links.protected_domains;
  for (const auto& d : config.smtp.accepted_domains)
    if (d != "localhost") vo.protected_domains.push_back(util::to_lower(d));
  vo.shorteners = config.links.shorteners;
  vo.max_subdomain_depth = static_cast<std::size_t>(config.links.max_subdomain_depth);
  vo.cache_entries = static_cast<std::size_t>(config.links.cache_entries);
  vo.cache_ttl = std::chrono::seconds(config.links.cache_seconds);
  auto verdicts = std::make_shared<links::VerdictEngine>(
      vo, list_files(config.links.block_lists, config.links.list_check_seconds),
      list_files(config.links.allow_lists, config.links.list_check_seconds));

  auto rt = std::make_unique<LinksRuntime>();
  auto shared_signer = std::make_shared<const links::LinkSigner>(std::move(*signer));
  rt->filter.signer = shared_signer;
  rt->filter.default_policy = to_policy(config.links.policy);
  rt->filter.default_policy.name = "default";
  for (const auto& p : config.link_policies) rt->filter.policies.push_back(to_policy(p));
  rt->filter.rewrite.max_urls = static_cast<std::size_t>(config.links.max_urls);
  rt->filter.rewrite.rewrite_images = config.links.rewrite_images;
  for (const auto& d : config.smtp.accepted_domains) rt->filter.internal_domains.push_back(util::to_lower(d));
  rt->filter.verdicts = verdicts;
  rt->recorder = std::make_unique<ClickRecorder>(clicks);

  http::ClickServiceConfig cc;
  cc.signer = shared_signer;
  cc.default_policy = rt->filter.default_policy;
  cc.policies = rt->filter.policies;
  cc.verdicts = verdicts;
  cc.preview_agents = config.links.preview_agents;
  ClickRecorder* recorder = rt->recorder.get();
  cc.record = [recorder](store::ClickRecord c) { recorder->add(std::move(c)); };
  cc.now_micros = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  if (config.links.resolve_shorteners) {
    const auto timeout = std::chrono::milliseconds(config.links.shortener_timeout_ms);
    cc.shortener_destination = [timeout](const std::string& url) { return http::shortener_destination(url, timeout); };
  }
  rt->clicks = std::make_shared<const http::ClickService>(std::move(cc));
  return rt;
}

namespace {


}  // namespace

void add_click_trace_routes(http::Router& router, store::ClickStore& clicks, const ApiAuth& auth) {
  router.add("GET", "/api/v1/clicks", guarded(auth, Role::viewer, [&clicks](const http::Request& req, const Principal&) {
    store::ClickQuery q;
    for (const auto& [key, value] : query_pairs(req.query)) {
      if (key == "recipient") q.recipient = value;
      else if (key == "url_contains") q.url_contains = value;
      else if (key == "cursor") q.cursor = value;
      else if (is_window_key(key)) {
        if (auto bad = apply_window(key, value, q)) return *bad;
      } else {
        return api_error(400, "unknown parameter \"" + key + "\"");
      }
    }
    auto page = clicks.search(q);
    if (!page) return api_error(400, page.error().message);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& c : page->items)
      items.push_back({{"id", c.id}, {"at", c.at}, {"recipient", c.recipient}, {"message_id", c.message_id},
                       {"url", c.url}, {"verdict", c.verdict}, {"reasons", c.reasons},
                       {"action", std::string(store::to_string(c.action))}, {"client_ip", c.client_ip},
                       {"user_agent", c.user_agent}});
    return http::Response::json(200, nlohmann::json{{"clicks", items}, {"next_cursor", page->next_cursor}}.dump(
                                         -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }));
}

}  // namespace mailmoat::app

#include "app/rules_setup.h"

#include <chrono>

#include "log/log.h"
#include "policy/loader.h"
#include "util/strings.h"

namespace mailmoat::app {

filters::RulesConfig rules_config(const Config& cfg) {
  filters::RulesConfig rc;
  for (const auto& d : cfg.smtp.accepted_domains) rc.internal_domains.push_back(util::to_lower(d));
  rc.body_limit = static_cast<std::size_t>(cfg.rules.body_scan_kb) * 1024;
  return rc;
}

filters::VerdictConfig verdict_config(const Config& cfg) {
  filters::VerdictConfig vc;
  vc.scl_header = cfg.verdict.scl_header;
  vc.verdict_header = cfg.verdict.verdict_header;
  vc.mark_at = static_cast<int>(cfg.verdict.mark_at);
  vc.quarantine_at = static_cast<int>(cfg.verdict.quarantine_at);
  vc.reject_at = static_cast<int>(cfg.verdict.reject_at);
  vc.mark_subject_prefix = cfg.verdict.mark_subject_prefix;
  return vc;
}

util::Result<filters::ConnectionConfig> connection_config(const Config& cfg) {
  filters::ConnectionConfig cc;
  for (const auto& n : cfg.connection.ip_allow)
    if (auto net = util::parse_network(n)) cc.ip_allow.push_back(*net);
  for (const auto& s : cfg.connection.sender_allow) cc.sender_allow.push_back(util::to_lower(s));
  for (const auto& s : cfg.connection.sender_block) cc.sender_block.push_back(util::to_lower(s));
  for (const auto& z : cfg.connection.dnsbl_zones) cc.dnsbl_zones.push_back(util::to_lower(z));
  for (const auto& c : cfg.connection.dnsbl_codes) {
    std::size_t eq = c.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == c.size())
      return util::fail("connection.dnsbl_codes: \"" + c + "\" is not \"127.0.0.N=meaning\"");
    cc.dnsbl_codes[std::string(util::trim(c.substr(0, eq)))] = std::string(util::trim(c.substr(eq + 1)));
  }
  cc.dnsbl_scl = static_cast<int>(cfg.connection.dnsbl_scl);
  cc.dnsbl_timeout = std::chrono::milliseconds(cfg.connection.dnsbl_timeout_ms);
  return cc;
}

std::vector<util::Network> blocked_networks(const Config& cfg) {
  std::vector<util::Network> out;
  for (const auto& n : cfg.connection.ip_block)
    if (auto net = util::parse_network(n)) out.push_back(*net);
  return out;
}

namespace {

std::vector<std::string> route_names(const Config& cfg) {
  std::vector<std::string> names;
  for (const auto& r : cfg.routes)
    if (!r.name.empty()) names.push_back(r.name);
  return names;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

util::Result<std::unique_ptr<RulesReloader>> RulesReloader::start(boost::asio::io_context& io, const Config& cfg) {
  std::shared_ptr<const policy::RuleSet> rules;
  if (!cfg.rules.file.empty()) {
    auto loaded = policy::load_rules_file(cfg.rules.file);
    if (loaded.rules)
      for (auto& e : policy::check_route_names(*loaded.rules, route_names(cfg))) loaded.errors.push_back(std::move(e));
    if (!loaded.errors.empty()) {
      std::string all;
      for (const auto& e : loaded.errors) all += (all.empty() ? "" : "\n") + e.to_string();
      return util::fail("rules.file has errors:\n" + all);
    }
    log::info("rules.loaded", {{"file", cfg.rules.file}, {"rules", loaded.rules->rules.size()}});
    rules = std::make_shared<const policy::RuleSet>(std::move(*loaded.rules));
  }
  auto attachments_pass =
      std::make_shared<filters::RulesFilter>(rules_config(cfg), rules, unix_now, policy::Pass::attachments);
  auto filter = std::make_shared<filters::RulesFilter>(rules_config(cfg), std::move(rules), unix_now);
  std::unique_ptr<RulesReloader> r(new RulesReloader(io, cfg.rules.file, std::move(filter)));
  r->attachments_filter_ = std::move(attachments_pass);
  r->route_names_ = route_names(cfg);
  if (!r->path_.empty()) {
    r->last_stamp_ = r->stamp();
    r->watch();
  }
  return r;
}

RulesReloader::RulesReloader(boost::asio::io_context& io, std::string path, std::shared_ptr<filters::RulesFilter> filter)
    : path_(std::move(path)), filter_(std::move(filter)), timer_(io) {}

std::string RulesReloader::stamp() const {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path_, ec);
  if (ec) return "missing";
  auto size = std::filesystem::file_size(path_, ec);
  return std::to_string(t.time_since_epoch().count()) + "/" + std::to_string(ec ? 0 : size);
}

void RulesReloader::watch() {
  timer_.expires_after(std::chrono::seconds(2));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    std::string now = stamp();
    if (now != last_stamp_) {
      last_stamp_ = now;
      reload("file changed");
    }
    watch();
  });
}

void RulesReloader::set_notify(pipeline::MessageSink& sink, const std::string& hostname) {
  filter_->set_notify({&sink, hostname});
  attachments_filter_->set_notify({&sink, hostname});
}

void RulesReloader::reload(const char* why) {
  if (path_.empty()) return;
  auto loaded = policy::load_rules_file(path_);
  if (loaded.rules)
    for (auto& e : policy::check_route_names(*loaded.rules, route_names_)) loaded.errors.push_back(std::move(e));
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors)
      log::error("rules.reload_failed", {{"error", e.to_string()}, {"kept", "previous rules"}});
    return;
  }
  std::size_t n = loaded.rules->rules.size();
  auto rules = std::make_shared<const policy::RuleSet>(std::move(*loaded.rules));
  filter_->set_rules(rules);
  attachments_filter_->set_rules(std::move(rules));
  log::info("rules.reloaded", {{"file", path_}, {"rules", n}, {"why", why}});
}

util::Result<std::size_t> RulesReloader::reload_now(const char* why, std::vector<std::string>& errors) {
  if (path_.empty()) return util::fail("no rules file is configured (rules.file)");
  auto loaded = policy::load_rules_file(path_);
  if (!loaded.rules) {
    for (const auto& e : loaded.errors) {
      errors.push_back(e.to_string());
      log::error("rules.reload_failed", {{"error", e.to_string()}, {"kept", "previous rules"}, {"why", why}});
    }
    return util::fail(path_ + " has errors; the previous rules stay active");
  }
  std::size_t n = loaded.rules->rules.size();
  filter_->set_rules(std::make_shared<const policy::RuleSet>(std::move(*loaded.rules)));
  log::info("rules.reloaded", {{"file", path_}, {"rules", n}, {"why", why}});
  return n;
}

}  // namespace mailmoat::app

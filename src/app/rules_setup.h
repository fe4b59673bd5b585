// Wiring of the transport rules and the SCL verdict into `serve`: builds the
// rules and verdict filters from the configuration, and keeps the rule set
// current. The rules file is reloaded when its modification time or size
// changes (checked every two seconds: editors that replace the file by rename
// are seen too) and on SIGHUP; a file that fails to load is logged with every
// error and the previous rule set stays active.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "app/config.h"
#include "filters/connection/connection_filter.h"
#include "filters/rules/rules_filter.h"
#include "filters/verdict/verdict_filter.h"
#include "util/error.h"

namespace mailmoat::app {

filters::RulesConfig rules_config(const Config& cfg);
filters::VerdictConfig verdict_config(const Config& cfg);
// The connection filter's lists; fails on a dnsbl_codes entry without "=".
util::Result<filters::ConnectionConfig> connection_config(const Config& cfg);
// connection.ip_block as networks (the schema has checked them).
std::vector<util::Network> blocked_networks(const Config& cfg);

class RulesReloader {
 public:
  // Loads the configured rules file; fails with every error (FILE:LINE: message) when it does not load.
  static util::Result<std::unique_ptr<RulesReloader>> start(boost::asio::io_context& io, const Config& cfg);
  std::shared_ptr<filters::RulesFilter> filter() const { return filter_; }
  // The second pass: rules with attachment conditions, placed after Safe Attachments.
  std::shared_ptr<filters::RulesFilter> attachments_filter() const { return attachments_filter_; }
  // Where `notify` actions queue their messages (the queue manager) and the host name they name.
  void set_notify(pipeline::MessageSink& sink, const std::string& hostname);
  // Loads the file again now (SIGHUP); keeps the current rules when it fails.
  void reload(const char* why);
  // The same for the admin API: the number of rules now active, or every error
  // (FILE:LINE: message) with the current rules kept. Fails when no rules.file is set.
  util::Result<std::size_t> reload_now(const char* why, std::vector<std::string>& errors);
  const std::string& path() const { return path_; }

 private:
  RulesReloader(boost::asio::io_context& io, std::string path, std::shared_ptr<filters::RulesFilter> filter);
  void watch();
  std::string stamp() const;

  std::string path_;
  std::shared_ptr<filters::RulesFilter> filter_;
  std::shared_ptr<filters::RulesFilter> attachments_filter_;
  std::vector<std::string> route_names_;
  boost::asio::steady_timer timer_;
  std::string last_stamp_;
};

}  // namespace mailmoat::app

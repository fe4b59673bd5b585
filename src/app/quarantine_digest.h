// End-user quarantine digests (issue 10): once a day (at [quarantine_digest]
// hour, UTC) each recipient with mail quarantined since the last digest gets a
// message through the queue listing sender, subject and date, with a signed,
// expiring link per item to /v1/q/release on the public (click) listener. The
// link is a Safe Links token (src/links, same keys) whose URL field is
// "mailmoat:quarantine-release:ID:EXPIRY", so no new parser exists for it.
// Following it shows a confirmation page; only its POST acts (link scanners
// prefetch GETs). A reason in self_release (never malware) releases to that
// recipient only; any other reason records a release request for admins
// (GET /api/v1/quarantine/requests; approving is the ordinary release). Each
// daily run is claimed in the shared store, so nodes sharing it send it once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "app/config.h"
#include "http/router.h"
#include "links/token.h"
#include "pipeline/message_sink.h"
#include "store/stores.h"
#include "util/error.h"

namespace mailmoat::app {

class QuarantineService;
class ApiAuth;

struct DigestSettings {
  std::string from;
  std::vector<std::string> self_release{"spam"};
  std::int64_t link_valid_days = 14;
  std::string hostname;
};

struct DigestRun {
  bool claimed = true;  // false: another node (or an earlier run) already sent today's digest
  std::size_t recipients = 0, items = 0;
};

class QuarantineDigest {
 public:
  QuarantineDigest(DigestSettings settings, links::LinkSigner signer, store::Stores& stores,
                   QuarantineService& service, pipeline::MessageSink& queue);

  // The daily digest of items quarantined since the last one. `force`: run now
  // even when today's has been sent (`mailmoat quarantine digest --now`).
  util::Result<DigestRun> run(bool force);
  // The signed link of one item for one recipient.
  std::string link_for(std::int64_t id, const std::string& recipient, std::int64_t now_unix) const;
  // GET and POST /v1/q/release.
  http::Response release_page(const http::Request& request);
  http::Response release_confirm(const http::Request& request);
  util::Result<std::vector<nlohmann::json>> requests();

 private:
  struct Verified {
    std::int64_t id = 0;
    std::string recipient;
    std::string query;  // the signed fields, to put in the form
  };
  std::variant<Verified, http::Response> verify(std::string_view query) const;
  util::Result<void> send_digest(const std::string& recipient, const std::vector<store::QuarantineItem>& items,
                                 std::int64_t now_unix);

  DigestSettings settings_;
  links::LinkSigner signer_;
  store::Stores& stores_;
  QuarantineService& service_;
  pipeline::MessageSink& queue_;
};

// The hourly check that runs the digest at the configured hour.
class DigestSchedule {
 public:
  DigestSchedule(boost::asio::io_context& io, QuarantineDigest& digest, int hour);
  ~DigestSchedule();
  void start();

 private:
  void arm();
  QuarantineDigest& digest_;
  int hour_;
  boost::asio::steady_timer timer_;
  std::thread worker_;
};

// The digest of the configuration ([quarantine_digest], Safe Links keys); nullptr when disabled.
util::Result<std::unique_ptr<QuarantineDigest>> make_quarantine_digest(const Config& config, const std::string& hostname,
                                                                     store::Stores& stores, QuarantineService& service,
                                                                     pipeline::MessageSink& queue);

// Public: GET/POST /v1/q/release (only with a digest). Admin API: POST
// /api/v1/quarantine/digest {"now": bool} (admin; 409 when digests are off),
// GET /api/v1/quarantine/requests (viewer).
void add_digest_routes(http::Router& router, QuarantineDigest* digest, const ApiAuth& auth);

}  // namespace mailmoat::app

// DMARC aggregate reports out (RFC 9990): once a day, for every author domain
// seen the day before, look up its DMARC record, keep the mailto rua
// destinations that are inside its organization or that confirm they accept
// its reports (RFC 9989 §3.2.6 / RFC 7489 §7.1), and queue one gzip-compressed
// XML report per domain from the configured reporting address, DKIM-signed by
// the signing filter like any outbound message. A report is claimed in the
// shared store first, so two nodes (or a restart) never send the same day twice.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/dmarc/dmarc.h"
#include "dns/resolver.h"
#include "http/router.h"
#include "pipeline/filter.h"
#include "pipeline/message_sink.h"
#include "store/stores.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::app {

struct DmarcReportSettings {
  std::string org_name;  // reporter (host name by default)
  std::string from;      // the reporting address (envelope and From)
  std::string contact;   // optional extra contact information
  std::string discovery = "treewalk";
  const auth::dmarc::PublicSuffixList* psl = nullptr;  // org domains in RFC 7489 mode
};

struct ReportOutcome {
  std::string domain;
  std::string status;  // sent, skipped, failed
  std::string detail;
  std::vector<std::string> to;
  std::string queue_id;
};

// A report sender run once a day for the day before (DMARC, TLS-RPT).
class DailyReporter {
 public:
  virtual ~DailyReporter() = default;
  virtual std::vector<ReportOutcome> run(std::int64_t day) = 0;
};

class DmarcReporter : public DailyReporter {
 public:
  DmarcReporter(DmarcReportSettings settings, store::DmarcStore& rows, store::Settings& claims,
                dns::Resolver& resolver, pipeline::MessageSink& queue, std::shared_ptr<pipeline::Filter> signer);
  // Reports day `day` (UTC days since the epoch). Blocks on DNS and the queue:
  // call it from a worker thread, never from the event loop.
  std::vector<ReportOutcome> run(std::int64_t day) override;

 private:
  ReportOutcome report_domain(const std::string& domain, std::int64_t day);
  std::vector<std::string> lookup_txt(const std::string& name);
  bool same_organization(const std::string& a, const std::string& b) const;

  DmarcReportSettings settings_;
  store::DmarcStore& rows_;
  store::Settings& claims_;
  dns::Resolver& resolver_;
  pipeline::MessageSink& queue_;
  std::shared_ptr<pipeline::Filter> signer_;
};

// Runs the reporter once a day (00:20 UTC, for the day before) and on demand,
// on its own thread; remembers the last run for the API.
class DmarcReportSchedule {
 public:
  struct Status {
    bool running = false;
    std::int64_t day = -1;        // of the last finished run
    std::int64_t finished_at = 0; // unix seconds
    std::uint64_t runs = 0;
    std::vector<ReportOutcome> outcomes;
  };
  DmarcReportSchedule(boost::asio::io_context& io, DailyReporter& reporter);
  ~DmarcReportSchedule();
  void start();
  void stop();
  // Starts a run for `day` now unless one is running; false when busy.
  bool trigger(std::int64_t day);
  Status status() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class ApiAuth;
// GET /api/v1/dmarc/reports (viewer): the last run; POST /api/v1/dmarc/reports
// {"day": N} (admin; default yesterday): start a run now (202).
void add_dmarc_report_routes(http::Router& router, DmarcReportSchedule& schedule, const ApiAuth& auth);
// The same pair of routes at /api/v1/<kind>/reports (audit action "<kind>.report_run").
void add_report_routes(http::Router& router, DmarcReportSchedule& schedule, const ApiAuth& auth, const std::string& kind);

// Shared by the report senders: a report message (RFC 5322 text) from `from`
// to `to`, DKIM-signed by `signer` when given, claimed under `claim` in
// `claims` (value `report_id`) and queued; blocks until queued. The claim is
// released again when queueing fails. Returns the queue id.
util::Result<std::string> queue_report_message(pipeline::MessageSink& queue, const std::shared_ptr<pipeline::Filter>& signer,
                                               store::Settings& claims, const std::string& claim,
                                               const std::string& report_id, const std::string& from,
                                               const std::vector<std::string>& to, std::string message,
                                               const std::string& listener, pipeline::TraceNote note);
// A random token for report ids and MIME boundaries.
std::string random_token();
// Base64 in lines of 76 characters, CRLF-separated (RFC 2045 §6.8).
std::string base64_lines(std::string_view bytes);

// gzip (RFC 1952) of `data`.
std::string gzip(std::string_view data);

}  // namespace mailmoat::app

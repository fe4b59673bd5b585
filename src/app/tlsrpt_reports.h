// TLS-RPT (RFC 8460) in the gateway: TlsRptRecorder counts every outbound
// session's TLS result in the store (off the event loop, like the DMARC rows),
// and TlsRptReporter sends, once a day for the day before, one gzip JSON
// report per policy domain to the rua of its _smtp._tls record: by mail
// through the queue (multipart/report; report-type="tlsrpt", §5.3) and by
// HTTPS POST (application/tlsrpt+gzip, §5.4). A report is claimed in the
// shared store first (as DMARC reports are), so no day is sent twice.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string>

#include "app/dmarc_reports.h"
#include "tls/tlsrpt_report.h"

namespace mailmoat::app {

class TlsRptRecorder {
 public:
  explicit TlsRptRecorder(store::TlsRptStore& store) : store_(store) {}
  ~TlsRptRecorder() { pool_.join(); }
  // Any thread; returns at once.
  void record(tls::TlsRptResult result);

 private:
  store::TlsRptStore& store_;
  boost::asio::thread_pool pool_{1};
};

struct TlsRptSettings {
  std::string org_name;
  std::string from;
  std::string contact;
  std::string ca_file;  // for HTTPS rua endpoints; empty: the system trust store
};

class TlsRptReporter : public DailyReporter {
 public:
  TlsRptReporter(TlsRptSettings settings, store::TlsRptStore& rows, store::Settings& claims, dns::Resolver& resolver,
                 pipeline::MessageSink& queue, std::shared_ptr<pipeline::Filter> signer);
  // Blocks on DNS, HTTPS and the queue: call it from a worker thread.
  std::vector<ReportOutcome> run(std::int64_t day) override;

 private:
  ReportOutcome report_domain(const std::string& domain, std::int64_t day);
  std::vector<std::string> addresses(const std::string& host);
  util::Result<int> post_report(const std::string& url, const std::string& gz);
  std::string mail(const std::string& domain, const std::string& report_id, const std::string& filename,
                   const std::string& gz, const std::vector<std::string>& to) const;

  TlsRptSettings settings_;
  store::TlsRptStore& rows_;
  store::Settings& claims_;
  dns::Resolver& resolver_;
  pipeline::MessageSink& queue_;
  std::shared_ptr<pipeline::Filter> signer_;
};

// POSTs `body` to an https:// URL at `address` (the host's address from the
// gateway's resolver; certificate verified for the URL's host against
// `ca_file` or the system store, 30 s budget); the HTTP status or why it failed.
util::Result<int> https_post(const std::string& url, const std::string& address, const std::string& content_type,
                             const std::string& body, const std::string& ca_file);

}  // namespace mailmoat::app

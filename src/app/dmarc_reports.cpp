#include "app/dmarc_reports.h"

#include <zlib.h>

#include <boost/asio.hpp>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "auth/dkim/crypto.h"
#include "auth/dmarc/psl.h"
#include "auth/dmarc/report.h"
#include "log/log.h"
#include "pipeline/chain.h"
#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::app {

namespace dmarc = auth::dmarc;

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string random_token() {
  std::random_device rd;
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (int i = 0; i < 12; ++i) s += digits[rd() % 36];
  return s;
}

std::string base64_lines(std::string_view bytes) {
  std::string b64 = auth::dkim::base64_encode(bytes), out;
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

namespace {

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

dmarc::ReportRow to_report_row(const store::DmarcRow& r) {
  dmarc::ReportRow row;
  row.source_ip = r.source_ip;
  row.count = r.count;
  row.disposition = r.disposition;
  row.dmarc_dkim = r.dmarc_dkim;
  row.dmarc_spf = r.dmarc_spf;
  row.header_from = r.header_from;
  row.envelope_from = r.envelope_from;
  row.dkim_domain = r.dkim_domain;
  row.dkim_selector = r.dkim_selector;
  row.dkim_result = r.dkim_result;
  row.spf_domain = r.spf_domain;
  row.spf_result = r.spf_result;
  return row;
}

}  // namespace

DmarcReporter::DmarcReporter(DmarcReportSettings settings, store::DmarcStore& rows, store::Settings& claims,
                             dns::Resolver& resolver, pipeline::MessageSink& queue,
                             std::shared_ptr<pipeline::Filter> signer)
    : settings_(std::move(settings)), rows_(rows), claims_(claims), resolver_(resolver), queue_(queue),
      signer_(std::move(signer)) {}

std::vector<std::string> DmarcReporter::lookup_txt(const std::string& name) {
  auto answer = std::make_shared<std::promise<dns::Answer>>();
  auto result = answer->get_future();
  resolver_.resolve(dns::Question{name, dns::RecordType::txt}, [answer](dns::Answer a) { answer->set_value(std::move(a)); });
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return {};
  dns::Answer a = result.get();
  return a.status == dns::Status::ok ? a.txt : std::vector<std::string>{};
}

// Same organization: equal organizational domains with the PSL (RFC 7489 mode);
// otherwise one name inside the other. The second rule is stricter than an
// RFC 9989 tree walk, so it may ask for verification it did not need, never skip one.
bool DmarcReporter::same_organization(const std::string& a, const std::string& b) const {
  if (settings_.psl) return settings_.psl->organizational_domain(a) == settings_.psl->organizational_domain(b);
  return a == b || a.ends_with("." + b) || b.ends_with("." + a);
}

std::vector<ReportOutcome> DmarcReporter::run(std::int64_t day) {
  std::vector<ReportOutcome> outcomes;
  auto domains = rows_.domains(day, day);
  if (!domains) {
    outcomes.push_back({"", "failed", "store: " + domains.error().message, {}, {}});
  } else {
    for (const auto& d : *domains) outcomes.push_back(report_domain(d, day));
  }
  for (const auto& o : outcomes)
    log::info("dmarc.report", {{"domain", o.domain}, {"day", day}, {"status", o.status}, {"detail", o.detail},
                               {"queue_id", o.queue_id}});
  return outcomes;
}

ReportOutcome DmarcReporter::report_domain(const std::string& domain, std::int64_t day) {
  ReportOutcome out{domain, "skipped", "", {}, {}};
  const std::string claim = "dmarc_report/" + domain + "/" + std::to_string(day);
  if (auto c = claims_.get(claim); c && *c) {
    out.detail = "already sent (" + **c + ")";
    return out;
  }
  std::optional<dmarc::Record> record;
  for (const auto& txt : lookup_txt("_dmarc." + domain))
    if (dmarc::is_dmarc_record(txt))
      if (auto r = dmarc::parse_record(txt)) record = *r;
  if (!record) {
    out.detail = "no DMARC record at _dmarc." + domain;
    return out;
  }
  std::string refused;
  for (auto& dest : dmarc::mailto_destinations(record->rua)) {
    const std::string dest_domain = domain_of(dest.address);
    if (!same_organization(domain, dest_domain)) {
      bool confirmed = false;
      for (const auto& txt : lookup_txt(dmarc::verification_name(domain, dest_domain)))
        confirmed |= dmarc::is_dmarc_record(txt);
      if (!confirmed) {
        refused += (refused.empty() ? "" : ", ") + dest.address + " (no " +
                   dmarc::verification_name(domain, dest_domain) + ")";
        continue;
      }
    }
    out.to.push_back(dest.address);
  }
  if (out.to.empty()) {
    out.detail = refused.empty() ? "no mailto rua destination" : "destinations not verified: " + refused;
    return out;
  }
  auto rows = rows_.rows(domain, day, day);
  if (!rows || rows->empty()) {
    out.status = rows ? "skipped" : "failed";
    out.detail = rows ? "no rows" : "store: " + rows.error().message;
    return out;
  }
  dmarc::ReportMetadata meta;
  meta.org_name = settings_.org_name;
  meta.email = settings_.from;
  meta.contact = settings_.contact;
  meta.begin = day * 86400;
  meta.end = (day + 1) * 86400;
  meta.report_id = std::to_string(day) + "." + random_token();
  meta.discovery = settings_.discovery;
  std::vector<dmarc::ReportRow> report_rows;
  for (const auto& r : *rows) report_rows.push_back(to_report_row(r));
  const std::string xml = dmarc::aggregate_report_xml(meta, domain, *record, report_rows);
  const std::string gz = gzip(xml);

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string boundary = "=_mailmoat_" + random_token();
  std::string to_header;
  for (const auto& a : out.to) to_header += (to_header.empty() ? "" : ", ") + a;
  std::string message =
      "From: " + settings_.from + "\r\nTo: " + to_header + "\r\nSubject: " + dmarc::report_subject(meta, domain) +
      "\r\nDate: " + util::rfc5322_date(now) + "\r\nMessage-ID: <" + meta.report_id + "@" + settings_.org_name +
      ">\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n--" + boundary +
      "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nDMARC aggregate report for " + domain + " from " +
      settings_.org_name + ", " + std::to_string(rows->size()) + " row(s).\r\n\r\n--" + boundary +
      "\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;"
      " filename=\"" + dmarc::report_file_name(meta, domain) + "\"\r\n\r\n" + base64_lines(gz) + "\r\n--" + boundary +
      "--\r\n";
  std::vector<std::string> fitting;
  for (auto& dest : dmarc::mailto_destinations(record->rua))
    for (const auto& a : out.to)
      if (a == dest.address && (dest.max_size == 0 || message.size() <= dest.max_size)) fitting.push_back(a);
  if (fitting.empty()) {
    out.detail = "report of " + std::to_string(message.size()) + " bytes is larger than every destination accepts";
    out.to.clear();
    return out;
  }
  out.to = fitting;

  auto queued = queue_report_message(queue_, signer_, claims_, claim, meta.report_id, settings_.from, out.to,
                                     std::move(message), "dmarc-reports",
                                     {"dmarc-reports", "aggregate_report",
                                      "DMARC aggregate report for " + domain + ", day " + std::to_string(day) + ", " +
                                          meta.report_id});
  if (!queued) {
    out.status = "failed";
    out.detail = queued.error().message;
    return out;
  }
  out.queue_id = *queued;
  out.status = "sent";
  out.detail = meta.report_id + ", " + std::to_string(rows->size()) + " row(s), " + std::to_string(gz.size()) +
               " bytes compressed";
  return out;
}

util::Result<std::string> queue_report_message(pipeline::MessageSink& queue, const std::shared_ptr<pipeline::Filter>& signer,
                                               store::Settings& claims, const std::string& claim,
                                               const std::string& report_id, const std::string& from,
                                               const std::vector<std::string>& to, std::string message,
                                               const std::string& listener, pipeline::TraceNote note) {
  auto ctx = std::make_shared<pipeline::MessageContext>();
  ctx->queue_id = queue.next_queue_id();
  ctx->connection.role = "submission";
  ctx->connection.listener = listener;
  ctx->connection.client_address = "127.0.0.1";
  ctx->envelope.sender = from;
  ctx->envelope.body_type = "7BIT";
  for (const auto& a : to) ctx->envelope.recipients.push_back({a, "", ""});
  ctx->message = std::move(message);
  ctx->notes.push_back(std::move(note));
  if (signer) {
    std::promise<pipeline::Verdict> signed_promise;
    auto signed_future = signed_promise.get_future();
    signer->on_message(*ctx, [&signed_promise](pipeline::Verdict v) { signed_promise.set_value(std::move(v)); });
    signed_future.wait();
    pipeline::apply_edits(ctx->message, ctx->edits);
    ctx->edits = {};
  }
  if (auto c = claims.set(claim, report_id); !c) return util::fail("cannot claim the report in the store: " + c.error().message);
  std::promise<util::Result<void>> queued;
  auto queued_future = queued.get_future();
  pipeline::Submission submission;
  submission.context = ctx;
  queue.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  if (auto r = queued_future.get(); !r) {
    (void)claims.erase(claim);
    return util::fail("queue: " + r.error().message);
  }
  return ctx->queue_id;
}

struct DmarcReportSchedule::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, DailyReporter& r) : timer(io), reporter(r) {}
  boost::asio::steady_timer timer;
  boost::asio::thread_pool worker{1};
  DailyReporter& reporter;
  mutable std::mutex mu;
  Status status;
  bool stopped = false;

  static std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  void arm() {
    const std::int64_t now = now_seconds();
    std::int64_t next = (now / 86400) * 86400 + std::int64_t{20} * 60;  // today 00:20 UTC
    if (next <= now) next += 86400;
    timer.expires_after(std::chrono::seconds(next - now));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->start_run(now_seconds() / 86400 - 1);
      self->arm();
    });
  }
  bool start_run(std::int64_t day) {
    {
      std::lock_guard lock(mu);
      if (status.running || stopped) return false;
      status.running = true;
    }
    boost::asio::post(worker, [self = shared_from_this(), day] {
      auto outcomes = self->reporter.run(day);
      std::lock_guard lock(self->mu);
      self->status.running = false;
      self->status.day = day;
      self->status.finished_at = now_seconds();
      ++self->status.runs;
      self->status.outcomes = std::move(outcomes);
    });
    return true;
  }
};

DmarcReportSchedule::DmarcReportSchedule(boost::asio::io_context& io, DailyReporter& reporter)
    : impl_(std::make_shared<Impl>(io, reporter)) {}

// Joining its own worker cannot fail but by a bug, which ends the process either way (a
// joinable thread left behind terminates it too).
DmarcReportSchedule::~DmarcReportSchedule() {  // NOLINT(bugprone-exception-escape)
  stop();
  impl_->worker.join();
}

void DmarcReportSchedule::start() { impl_->arm(); }

void DmarcReportSchedule::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = true;
  }
  impl_->timer.cancel();
}

bool DmarcReportSchedule::trigger(std::int64_t day) { return impl_->start_run(day); }

DmarcReportSchedule::Status DmarcReportSchedule::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

void add_dmarc_report_routes(http::Router& router, DmarcReportSchedule& schedule, const ApiAuth& auth) {
  add_report_routes(router, schedule, auth, "dmarc");
}

void add_report_routes(http::Router& router, DmarcReportSchedule& schedule, const ApiAuth& auth, const std::string& kind) {
  const std::string path = "/api/v1/" + kind + "/reports";
  router.add("GET", path,
             guarded(auth, Role::viewer, [&schedule](const http::Request&, const Principal&) {
               auto st = schedule.status();
               nlohmann::json outcomes = nlohmann::json::array();
               for (const auto& o : st.outcomes)
                 outcomes.push_back({{"domain", o.domain}, {"status", o.status}, {"detail", o.detail}, {"to", o.to},
                                     {"queue_id", o.queue_id}});
               return http::Response::json(200, nlohmann::json{{"running", st.running}, {"day", st.day},
                                                               {"runs", st.runs}, {"finished_at", st.finished_at},
                                                               {"outcomes", outcomes}}
                                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
             }));
  router.add("POST", path,
             guarded(auth, Role::admin, [&schedule, &auth, kind](const http::Request& req, const Principal& who) {
               auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
               if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
               const std::int64_t today = std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch()).count() / 86400;
               std::int64_t day = today - 1;
               for (auto& [k, v] : body.items()) {
                 if (k != "day" || !v.is_number_integer()) return api_error(400, "unknown or invalid field \"" + k + "\"");
                 day = v.get<std::int64_t>();
               }
               if (day < today - 366 || day > today) return api_error(400, "day must be within the last year");
               if (!schedule.trigger(day)) return api_error(409, "a report run is in progress");
               auth.audit(who, kind + ".report_run", kind + "/" + std::to_string(day));
               return http::Response::json(202, nlohmann::json{{"started", true}, {"day", day}}.dump());
             }));
}

}  // namespace mailmoat::app

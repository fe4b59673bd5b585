#include "app/tlsrpt_reports.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <future>

#include "log/log.h"
#include "tls/tlsrpt_record.h"
#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

void TlsRptRecorder::record(tls::TlsRptResult r) {
  asio::post(pool_, [this, r = std::move(r)] {
    store::TlsRptRow row{std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count() / 86400,
                         r.policy_domain, r.policy_type, r.policy_string, r.mx_host, r.result_type, r.sending_ip,
                         r.receiving_mx, r.receiving_ip, r.reason, r.count};
    if (auto ok = store_.add(row); !ok)
      log::warn("tlsrpt.record_failed", {{"domain", r.policy_domain}, {"error", ok.error().message}});
  });
}

TlsRptReporter::TlsRptReporter(TlsRptSettings settings, store::TlsRptStore& rows, store::Settings& claims,
                               dns::Resolver& resolver, pipeline::MessageSink& queue, std::shared_ptr<pipeline::Filter> signer)
    : settings_(std::move(settings)), rows_(rows), claims_(claims), resolver_(resolver), queue_(queue),
      signer_(std::move(signer)) {}

std::vector<ReportOutcome> TlsRptReporter::run(std::int64_t day) {
  std::vector<ReportOutcome> outcomes;
  auto domains = rows_.domains(day);
  if (!domains) outcomes.push_back({"", "failed", "store: " + domains.error().message, {}, {}});
  else
    for (const auto& d : *domains) outcomes.push_back(report_domain(d, day));
  for (const auto& o : outcomes)
    log::info("tlsrpt.report", {{"domain", o.domain}, {"day", day}, {"status", o.status}, {"detail", o.detail},
                                {"queue_id", o.queue_id}});
  return outcomes;
}

std::string TlsRptReporter::mail(const std::string& domain, const std::string& report_id, const std::string& filename,
                                 const std::string& gz, const std::vector<std::string>& to) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string boundary = "=_mailmoat_" + random_token();
  std::string to_header;
  for (const auto& a : to) to_header += (to_header.empty() ? "" : ", ") + a;
  // RFC 8460 §5.3: the two header fields, the subject form, multipart/report with report-type tlsrpt.
  return "From: " + settings_.from + "\r\nTo: " + to_header + "\r\nSubject: Report Domain: " + domain +
         " Submitter: " + settings_.org_name + " Report-ID: <" + report_id + "@" + settings_.org_name +
         ">\r\nDate: " + util::rfc5322_date(now) + "\r\nMessage-ID: <" + report_id + "@" + settings_.org_name +
         ">\r\nTLS-Report-Domain: " + domain + "\r\nTLS-Report-Submitter: " + settings_.org_name +
         "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"" + boundary +
         "\"\r\n\r\n--" + boundary + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is an aggregate TLS report"
         " from " + settings_.org_name + " for " + domain + ".\r\n\r\n--" + boundary +
         "\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: "
         "attachment; filename=\"" + filename + "\"\r\n\r\n" + base64_lines(gz) + "\r\n--" + boundary + "--\r\n";
}

std::vector<std::string> TlsRptReporter::addresses(const std::string& host) {
  auto answer = std::make_shared<std::promise<dns::Answer>>();
  auto result = answer->get_future();
  resolver_.resolve(dns::Question{host, dns::RecordType::a}, [answer](dns::Answer a) { answer->set_value(std::move(a)); });
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return {};
  return result.get().addresses;
}

// §5.4: POST the gzip report as application/tlsrpt+gzip; the host is resolved by the gateway's resolver.
util::Result<int> TlsRptReporter::post_report(const std::string& url, const std::string& gz) {
  std::string host = url.substr(8);
  host.resize(std::min(host.size(), host.find_first_of("/:")));
  auto found = addresses(host);
  if (found.empty()) return util::fail("no address for " + host);
  util::Result<int> last = util::fail("no address for " + host);
  for (const auto& address : found) {
    last = https_post(url, address, "application/tlsrpt+gzip", gz, settings_.ca_file);
    if (last) return last;
  }
  return last;
}

ReportOutcome TlsRptReporter::report_domain(const std::string& domain, std::int64_t day) {
  ReportOutcome out{domain, "skipped", "", {}, {}};
  const std::string claim = "tlsrpt_report/" + domain + "/" + std::to_string(day);
  if (auto c = claims_.get(claim); c && *c) {
    out.detail = "already sent (" + **c + ")";
    return out;
  }
  auto answer = std::make_shared<std::promise<dns::Answer>>();
  auto result = answer->get_future();
  resolver_.resolve(dns::Question{"_smtp._tls." + domain, dns::RecordType::txt},
                    [answer](dns::Answer a) { answer->set_value(std::move(a)); });
  std::vector<std::string> txts;
  if (result.wait_for(std::chrono::seconds(30)) == std::future_status::ready)
    if (dns::Answer a = result.get(); a.status == dns::Status::ok) txts = a.txt;
  auto record = tls::select_tlsrpt_record(txts);
  if (!record) {
    out.detail = "no TLS-RPT policy at _smtp._tls." + domain + ": " + record.error().message;
    return out;
  }
  auto rows = rows_.rows(domain, day);
  if (!rows || rows->empty()) {
    out.status = rows ? "skipped" : "failed";
    out.detail = rows ? "no results" : "store: " + rows.error().message;
    return out;
  }
  std::vector<tls::TlsRptResult> results;
  for (const auto& r : *rows)
    results.push_back({r.policy_domain, r.policy_type, r.policy_string, r.mx_host, r.result_type, r.sending_ip,
                       r.receiving_mx, r.receiving_ip, r.reason, r.count});
  const std::string report_id = std::to_string(day) + "." + random_token();
  tls::TlsRptMeta meta{settings_.org_name, settings_.contact.empty() ? settings_.from : settings_.contact, report_id, day};
  const std::string gz = gzip(tls::tlsrpt_json(meta, domain, results));
  const std::string filename = tls::tlsrpt_filename(settings_.org_name, domain, day, random_token());
  std::vector<std::string> failures;
  if (!record->mailto.empty()) {
    auto queued = queue_report_message(queue_, signer_, claims_, claim, report_id, settings_.from, record->mailto,
                                       mail(domain, report_id, filename, gz, record->mailto), "tlsrpt-reports",
                                       {"tlsrpt-reports", "aggregate_report",
                                        "TLS-RPT report for " + domain + ", day " + std::to_string(day) + ", " + report_id});
    if (queued) {
      out.queue_id = *queued;
      out.to = record->mailto;
    } else {
      failures.push_back("mail: " + queued.error().message);
    }
  }
  for (const auto& url : record->https) {
    auto posted = post_report(url, gz);
    if (posted && *posted >= 200 && *posted < 300) out.to.push_back(url);
    else failures.push_back(url + ": " + (posted ? "HTTP " + std::to_string(*posted) : posted.error().message));
  }
  if (out.to.empty()) {
    out.status = "failed";
    for (const auto& f : failures) out.detail += (out.detail.empty() ? "" : "; ") + f;
    return out;
  }
  // Mail claims the day itself; an HTTPS-only report is claimed once delivered.
  if (record->mailto.empty()) (void)claims_.set(claim, report_id);
  out.status = "sent";
  out.detail = report_id + ", " + std::to_string(rows->size()) + " row(s), " + std::to_string(gz.size()) + " bytes compressed";
  for (const auto& f : failures) out.detail += "; failed " + f;
  return out;
}

util::Result<int> https_post(const std::string& url, const std::string& address, const std::string& content_type,
                             const std::string& body, const std::string& ca_file) {
  if (!util::istarts_with(url, "https://")) return util::fail("not an https URL");
  std::string rest = url.substr(8);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash), target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "443";
  if (auto colon = authority.rfind(':'); colon != std::string::npos && authority.find(']') == std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (ca_file.empty()) ctx.set_default_verify_paths();
  else ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
  SSL_set1_host(stream.native_handle(), host.c_str());
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  auto port_number = util::parse_uint(port);
  if (ec || !port_number || *port_number == 0 || *port_number > 65535) return util::fail("bad address or port for " + authority);
  beast::get_lowest_layer(stream).connect(asio::ip::tcp::endpoint(ip, static_cast<std::uint16_t>(*port_number)), ec);
  if (ec) return util::fail("cannot connect to " + authority + ": " + ec.message());
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return util::fail("TLS with " + host + " failed: " + ec.message());
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "mailmoat");
  req.set(http::field::content_type, content_type);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return util::fail("sending to " + host + " failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return util::fail("reading the answer of " + host + " failed: " + ec.message());
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): http::read moves its parser's message into res, not out
  return static_cast<int>(res.result_int());
}

}  // namespace mailmoat::app

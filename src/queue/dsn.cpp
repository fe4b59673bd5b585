#include "queue/dsn.h"


#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::queue {

namespace {

std::string date_of(std::int64_t t) { return util::rfc5322_date(t); }

bool wants(const RecipientState& r, DsnKind kind) {
  if (r.notify.empty()) return kind == DsnKind::failure;  // RFC 3461 §4.1 default: FAILURE (DELAY optional)
  if (r.notify.find("NEVER") != std::string::npos) return false;
  return r.notify.find(kind == DsnKind::failure ? "FAILURE" : "DELAY") != std::string::npos;
}

// "550 5.1.1 text" -> "5.1.1"; a reply without one gets the class default.
std::string status_of(const std::string& reply, DsnKind kind) {
  auto parts = util::split(reply, ' ');
  if (parts.size() > 1 && parts[1].size() >= 5 && parts[1][1] == '.') return std::string(parts[1]);
  return kind == DsnKind::failure ? "5.0.0" : "4.0.0";
}

}  // namespace

std::optional<DsnMessage> build_dsn(const QueuedMessage& meta, std::string_view original, DsnKind kind,
                                    const std::string& host, std::int64_t now, const std::string& dsn_id) {
  if (meta.envelope.sender.empty() || meta.is_dsn) return std::nullopt;
  std::vector<const RecipientState*> affected;
  for (const auto& r : meta.recipients) {
    bool match = kind == DsnKind::failure ? r.status == RecipientStatus::failed : r.status == RecipientStatus::pending;
    if (match && wants(r, kind)) affected.push_back(&r);
  }
  if (affected.empty()) return std::nullopt;

  const std::string boundary = "mailmoat-dsn-" + meta.id;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
  m += "To: <" + meta.envelope.sender + ">\r\n";
  m += std::string("Subject: ") +
       (kind == DsnKind::failure ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)") + "\r\n";
  m += "Date: " + date_of(now) + "\r\n";
  m += "Message-ID: <" + dsn_id + "@" + host + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n\r\n";
  m += "This is a MIME-encapsulated message.\r\n\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
  m += "This is the mail system at host " + host + ".\r\n\r\n";
  m += kind == DsnKind::failure ? "Your message could not be delivered to the recipients below.\r\n"
                                : "Your message has not been delivered yet; delivery is still being retried.\r\n";
  m += "Queue ID: " + meta.id + "\r\n\r\n";
  for (const auto* r : affected)
    m += "<" + r->address + ">: " + (r->remote.empty() ? "" : "host " + r->remote + " said: ") + r->last_reply + "\r\n";
  m += "\r\n--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + host + "\r\n";
  m += "X-Mailmoat-Queue-ID: " + meta.id + "\r\n";
  if (!meta.envelope.envid.empty()) m += "Original-Envelope-Id: " + meta.envelope.envid + "\r\n";
  m += "Arrival-Date: " + date_of(meta.received_at) + "\r\n";
  for (const auto* r : affected) {
    m += "\r\nFinal-Recipient: rfc822; " + r->address + "\r\n";
    if (!r->orcpt.empty()) m += "Original-Recipient: " + r->orcpt + "\r\n";
    m += std::string("Action: ") + (kind == DsnKind::failure ? "failed" : "delayed") + "\r\n";
    m += "Status: " + status_of(r->last_reply, kind) + "\r\n";
    if (!r->remote.empty()) m += "Remote-MTA: dns; " + r->remote + "\r\n";
    if (!r->last_reply.empty()) m += "Diagnostic-Code: smtp; " + r->last_reply + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\n";
  bool headers_only = meta.envelope.ret == "HDRS";
  if (headers_only) {
    std::size_t end = original.find("\r\n\r\n");
    m += "Content-Type: text/rfc822-headers\r\n\r\n";
    m += std::string(original.substr(0, end == std::string_view::npos ? original.size() : end + 2));
  } else {
    m += "Content-Type: message/rfc822\r\n\r\n";
    m += std::string(original);
    if (!m.ends_with("\r\n")) m += "\r\n";
  }
  m += "\r\n--" + boundary + "--\r\n";
  return DsnMessage{meta.envelope.sender, std::move(m)};
}

}  // namespace mailmoat::queue

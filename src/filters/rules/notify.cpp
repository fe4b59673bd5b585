#include "filters/rules/notify.h"

#include <memory>

#include "log/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::filters {

namespace {

std::string one_line(const std::string& v) {
  std::string out;
  for (char c : v) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string header_value(const policy::MessageFacts& f, const char* name) {
  for (const auto& [n, v] : f.headers)
    if (util::iequals(n, name)) return v;
  return {};
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string notify_blocked(const policy::MessageFacts& f) {
  for (const auto& t : f.message_types)
    if (t == "bounce" || t == "auto_reply" || t == "auto_forward" || t == "read_receipt")
      return "the message is automatic (" + t + ")";
  std::string auto_submitted = util::to_lower(std::string(util::trim(header_value(f, "Auto-Submitted"))));
  if (!auto_submitted.empty() && !auto_submitted.starts_with("no"))
    return "the message is Auto-Submitted: " + auto_submitted;
  std::string precedence = util::to_lower(std::string(util::trim(header_value(f, "Precedence"))));
  if (precedence == "bulk" || precedence == "junk" || precedence == "list")
    return "the message has Precedence: " + precedence;
  return {};
}

std::vector<std::string> notice_recipients(const policy::Notice& n, const policy::MessageFacts& f) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& a) {
    if (a.empty()) return;  // never the null sender
    for (const auto& x : out)
      if (util::iequals(x, a)) return;
    out.push_back(a);
  };
  for (const auto& t : n.to) {
    if (t == "sender") add(f.envelope_sender);
    else if (t == "recipients")
      for (const auto& r : f.envelope_recipients) add(r);
    else add(t);
  }
  return out;
}

std::string fill_template(const std::string& text, const policy::Notice& n, const policy::MessageFacts& f,
                          const std::string& queue_id, std::int64_t now) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t close = text[i] == '{' ? text.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    std::string name = text.substr(i + 1, close - i - 1), value;
    if (name == "rule") value = n.rule;
    else if (name == "sender") value = f.envelope_sender.empty() ? "<>" : f.envelope_sender;
    else if (name == "recipients") value = joined(f.envelope_recipients);
    else if (name == "subject") value = f.subject;
    else if (name == "message_id") value = header_value(f, "Message-ID");
    else if (name == "queue_id") value = queue_id;
    else if (name == "client_ip") value = f.client_ip;
    else if (name == "date") value = util::rfc5322_date(now);
    else value = text.substr(i, close - i + 1);  // the loader allows none other
    out += one_line(value);
    i = close;
  }
  return out;
}

std::string notice_message(const policy::Notice& n, const std::vector<std::string>& to,
                           const policy::MessageFacts& f, const std::string& queue_id, const NotifySettings& s,
                           std::int64_t now, const std::string& message_id) {
  std::string body = fill_template(n.text, n, f, queue_id, now);
  bool ascii = true;
  for (char c : body + n.subject) ascii &= static_cast<unsigned char>(c) < 128;
  std::string m = "From: Mail Administrator <postmaster@" + s.hostname + ">\r\n";
  m += "To: " + joined(to) + "\r\n";
  // A UTF-8 subject is sent raw (RFC 6532) only when it needs to be; templates are usually ASCII.
  m += "Subject: " + fill_template(n.subject, n, f, queue_id, now) + "\r\n";
  m += "Date: " + util::rfc5322_date(now) + "\r\n";
  m += "Message-ID: <" + message_id + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-Mailmoat-Rule: " + one_line(n.rule) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += std::string("Content-Type: text/plain; charset=") + (ascii ? "us-ascii" : "utf-8") + "\r\n";
  m += std::string("Content-Transfer-Encoding: ") + (ascii ? "7bit" : "8bit") + "\r\n\r\n";
  std::string text;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) text += '\r';
    text += body[i];
  }
  if (!text.ends_with("\r\n")) text += "\r\n";
  return m + text;
}

std::vector<pipeline::TraceNote> send_notices(const std::vector<policy::Notice>& notices,
                                              const policy::MessageFacts& f, const std::string& queue_id,
                                              const NotifySettings& s, std::int64_t now) {
  std::vector<pipeline::TraceNote> notes;
  if (notices.empty()) return notes;
  const std::string blocked = notify_blocked(f);
  for (const auto& n : notices) {
    auto to = notice_recipients(n, f);
    std::string why = !blocked.empty() ? blocked
                      : to.empty()     ? "no recipient (the sender is the null reverse-path)"
                      : !s.sink        ? "no queue to send it through"
                                       : "";
    if (!why.empty()) {
      notes.push_back({"rules", "notify_skipped", "rule '" + n.rule + "': not sent: " + why});
      continue;
    }
    auto ctx = std::make_shared<pipeline::MessageContext>();
    ctx->queue_id = s.sink->next_queue_id();
    ctx->envelope.sender = "";  // RFC 3834 §3.3: nothing replies to or bounces a notification
    ctx->envelope.body_type = "8BITMIME";
    for (const auto& a : to) ctx->envelope.recipients.push_back({a, "NEVER", ""});
    ctx->connection.role = "relay";  // generated here: internal
    ctx->message = notice_message(n, to, f, queue_id, s, now, ctx->queue_id + ".notify@" + s.hostname);
    ctx->notes.push_back({"rules", "notification", "from rule '" + n.rule + "' about " + queue_id});
    const std::string id = ctx->queue_id;
    pipeline::Submission sub;
    sub.context = ctx;
    s.sink->submit(std::move(sub), [id](util::Result<void> r) {
      if (!r) log::error("rules.notify_failed", {{"id", id}, {"error", r.error().message}});
    });
    notes.push_back({"rules", "notify_sent", "rule '" + n.rule + "': notification " + id + " to " + joined(to)});
  }
  return notes;
}

}  // namespace mailmoat::filters

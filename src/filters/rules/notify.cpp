#include "filters/rules/notify.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

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

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 128) return false;
  return true;
}

std::string base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[n & 63] : '=';
  }
  return out;
}

}  // namespace

std::string encoded_header_text(const std::string& text) {
  if (is_ascii(text)) return text;
  // RFC 2047 B-words of at most 45 octets each (60 base64 characters, within the 75
  // limit), never splitting a UTF-8 sequence, folded onto continuation lines.
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + 45);
    while (end < text.size() && end > i + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    out += (out.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") + base64(std::string_view(text).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

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
  const bool ascii = is_ascii(body);
  std::string m = "From: Mail Administrator <postmaster@" + s.hostname + ">\r\n";
  m += "To: " + joined(to) + "\r\n";
  m += "Subject: " + encoded_header_text(fill_template(n.subject, n, f, queue_id, now)) + "\r\n";
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

#include "smtp/protocol/trace_fields.h"


#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::smtp {

std::string rfc5322_date(std::int64_t unix_time) { return util::rfc5322_date(unix_time); }

namespace {
// Keeps a value from a client (HELO) from breaking the field's syntax.
std::string sanitize(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += (c < 33 || c == 127 || c == '(' || c == ')' || c == ';') ? '?' : static_cast<char>(c);
  return out.substr(0, 255);
}
// Text inside a comment: no parentheses, backslashes or control characters.
std::string comment_text(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += (c < 32 || c == 127 || c == '(' || c == ')' || c == '\\') ? '?' : static_cast<char>(c);
  return out.substr(0, 255);
}
}  // namespace

std::string received_field(const ReceivedInfo& i) {
  std::string with = i.utf8 ? "UTF8SMTP" : (i.esmtp ? "ESMTP" : "SMTP");
  if (i.tls) with += "S";
  std::string f = "Received: from " + sanitize(i.helo) + " (" +
                  (i.client_name.empty() ? std::string("unknown") : sanitize(i.client_name)) + " [" +
                  i.client_address + "])\r\n\tby " + i.by_host + " (mailmoat) with " + with + " id " + i.queue_id;
  if (i.tls) f += "\r\n\t(using " + i.tls_version + " with cipher " + i.tls_cipher + ")";
  if (i.tls && !i.tls_peer_subject.empty())
    f += "\r\n\t(client certificate " + comment_text(i.tls_peer_subject) +
         (i.tls_peer_verified ? " verified)" : " not verified)");
  if (!i.single_recipient.empty()) f += "\r\n\tfor <" + sanitize(i.single_recipient) + ">";
  f += "; " + rfc5322_date(i.unix_time) + "\r\n";
  return f;
}

std::size_t count_received(std::string_view message) {
  std::size_t count = 0, pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find("\r\n", pos);
    std::string_view line = message.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.empty()) break;  // end of the header section
    if (util::istarts_with(line, "received:")) ++count;
    if (eol == std::string_view::npos) break;
    pos = eol + 2;
  }
  return count;
}

}  // namespace mailmoat::smtp

#include "links/mime_walk.h"

#include <algorithm>

#include "mail/message.h"
#include "util/strings.h"

namespace mailmoat::links {

namespace {

constexpr std::size_t kMaxDepth = 40;
constexpr std::size_t kMaxLine = 998;

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

std::string header(const mail::Message& m, std::string_view name) {
  const mail::HeaderField* f = m.find_first(name);
  return f ? unfold(f->value) : std::string();
}

std::size_t longest_line(std::string_view text) {
  std::size_t longest = 0, start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::size_t len = end - start - (end > start && text[end - 1] == '\r' ? 1 : 0);
    longest = std::max(longest, len);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return longest;
}

const char* encoding_name(gmime::TransferEncoding e) {
  return e == gmime::TransferEncoding::base64 ? "base64" : e == gmime::TransferEncoding::quoted_printable ? "quoted-printable" : "8bit";
}

// `value` (a Content-Type) with its charset parameter set to `charset`.
std::string with_charset(std::string_view raw, const std::string& charset) {
  std::string value(util::trim(raw));
  std::string lower = util::to_lower(value);
  for (std::size_t at = lower.find("charset"); at != std::string::npos; at = lower.find("charset", at + 1)) {
    std::size_t eq = lower.find_first_not_of(" \t", at + 7);
    if (eq == std::string::npos || lower[eq] != '=' || (at > 0 && lower[at - 1] != ';' && lower[at - 1] != ' ' &&
                                                        lower[at - 1] != '\t'))
      continue;
    std::size_t start = lower.find_first_not_of(" \t", eq + 1), end;
    if (start == std::string::npos) start = end = value.size();
    else if (value[start] == '"') end = value.find('"', start + 1) == std::string::npos ? value.size() : value.find('"', start + 1) + 1;
    else end = std::min(value.size(), value.find_first_of("; \t", start));
    return value.replace(start, end - start, charset);
  }
  return value.empty() ? "text/plain; charset=" + charset : value + "; charset=" + charset;
}

// The header section (with its blank line) with `name` set to `value`: the first field replaced, or added.
std::string set_field(std::string_view section, const std::string& name, const std::string& value) {
  std::string out;
  bool done = false;
  std::size_t pos = 0;
  while (pos < section.size()) {
    std::size_t eol = section.find("\r\n", pos);
    std::size_t next = eol == std::string_view::npos ? section.size() : eol + 2;
    while (next < section.size() && (section[next] == ' ' || section[next] == '\t')) {
      std::size_t e2 = section.find("\r\n", next);
      next = e2 == std::string_view::npos ? section.size() : e2 + 2;
    }
    std::string_view field = section.substr(pos, next - pos);
    if (field == "\r\n") break;  // the blank line
    bool match = field.size() > name.size() && field[name.size()] == ':' && util::iequals(field.substr(0, name.size()), name);
    if (match && !done) {
      out += name + ": " + value + "\r\n";
      done = true;
    } else {
      out.append(field);
    }
    pos = next;
  }
  if (!done) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

struct Walker {
  const WalkOptions& options;
  const TextEditor& editor;
  WalkOutcome outcome;
  // Header fields the text part just changed asks for; taken by its entity (or the message).
  std::vector<std::pair<std::string, std::string>> redeclare;

  void note(const std::string& where, const std::string& why) { outcome.notes.push_back(where + ": " + why); }
  std::nullopt_t refuse(const std::string& where, const std::string& why) {
    note(where, why);
    ++outcome.refused;
    return std::nullopt;
  }

  std::optional<std::string> text_part(const mail::Message& part, const gmime::ContentType& ct, const std::string& where) {
    if (gmime::is_attachment(header(part, "Content-Disposition"))) return std::nullopt;
    auto encoding = gmime::parse_transfer_encoding(header(part, "Content-Transfer-Encoding"));
    if (encoding == gmime::TransferEncoding::unknown)
      return refuse(where, "unknown Content-Transfer-Encoding; part left unchanged");
    if (!ct.charset.empty() && !gmime::charset_known(ct.charset))
      return refuse(where, "unknown charset " + ct.charset + "; part left unchanged");
    std::string decoded = gmime::decode(part.body(), encoding);
    if (decoded.size() > options.max_part_bytes)
      return refuse(where, "part of " + std::to_string(decoded.size()) + " bytes is over the limit; left unchanged");
    std::string cte = util::to_lower(util::trim(header(part, "Content-Transfer-Encoding")));
    bool eight_bit = encoding != gmime::TransferEncoding::identity || cte == "8bit" || cte == "binary";
    PartChange change = editor(TextPartView{decoded, ct, encoding, eight_bit, where});
    if (!change.refused.empty()) return refuse(where, change.refused);
    if (!change.text) return std::nullopt;
    if (change.charset) redeclare.push_back({"Content-Type", with_charset(header(part, "Content-Type"), *change.charset)});
    if (change.encoding && *change.encoding != encoding) {
      encoding = *change.encoding;
      redeclare.push_back({"Content-Transfer-Encoding", encoding_name(encoding)});
    }
    std::string encoded = gmime::encode(*change.text, encoding);
    if (encoding == gmime::TransferEncoding::identity && longest_line(encoded) > kMaxLine &&
        longest_line(part.body()) <= kMaxLine)
      return refuse(where, "the change would make a line longer than 998 octets; part left unchanged");
    // Keep the part's final line break as it was, so the boundary that follows stays where it was.
    bool had_crlf = part.body().size() >= 2 && part.body().substr(part.body().size() - 2) == "\r\n";
    bool has_crlf = encoded.size() >= 2 && encoded.substr(encoded.size() - 2) == "\r\n";
    if (had_crlf && !has_crlf) encoded += "\r\n";
    ++outcome.changed;
    return encoded;
  }

  // Offsets of the delimiter lines ("--boundary" at the start of the body or after CRLF).
  static std::vector<std::size_t> delimiters(std::string_view body, const std::string& delimiter, bool& closed) {
    std::vector<std::size_t> starts;
    std::size_t pos = 0;
    closed = false;
    while (pos <= body.size()) {
      std::size_t at = body.find(delimiter, pos);
      if (at == std::string_view::npos) break;
      if (at == 0 || (at >= 2 && body.substr(at - 2, 2) == "\r\n")) {
        starts.push_back(at);
        if (body.substr(at + delimiter.size(), 2) == "--") {
          closed = true;
          break;
        }
      }
      pos = at + delimiter.size();
    }
    return starts;
  }

  std::optional<std::string> multipart(std::string_view body, const std::string& boundary, std::size_t depth,
                                       const std::string& where) {
    if (boundary.empty()) return refuse(where, "multipart without a boundary; left unchanged");
    bool closed = false;
    std::vector<std::size_t> starts = delimiters(body, "--" + boundary, closed);
    if (starts.empty() || (closed && starts.size() < 2)) return refuse(where, "multipart without parts; left unchanged");
    std::string out;
    bool changed = false;
    std::size_t copied = 0;
    for (std::size_t i = 0; i + 1 < starts.size() || (!closed && i + 1 == starts.size()); ++i) {
      std::size_t line_end = body.find("\r\n", starts[i]);
      if (line_end == std::string_view::npos) break;
      std::size_t part_start = line_end + 2;
      // The CRLF before the next delimiter belongs to the delimiter (RFC 2046 5.1.1).
      std::size_t part_end = i + 1 < starts.size() ? starts[i + 1] - 2 : body.size();
      if (part_end < part_start) continue;
      std::string part_where = where + "." + std::to_string(i + 1);
      auto edited = entity(body.substr(part_start, part_end - part_start), depth + 1, part_where);
      if (!edited) continue;
      out.append(body.substr(copied, part_start - copied));
      out += *edited;
      copied = part_end;
      changed = true;
    }
    if (!changed) return std::nullopt;
    out.append(body.substr(copied));
    return out;
  }

  // One MIME entity (header and body); returns the whole entity when it changed.
  std::optional<std::string> entity(std::string_view bytes, std::size_t depth, const std::string& where) {
    auto parsed = mail::Message::parse(bytes);
    if (!parsed) return refuse(where, "cannot be parsed (" + parsed.error().message + "); left unchanged");
    auto body = body_of(*parsed, depth, where);
    if (!body) return std::nullopt;
    std::string section(parsed->header_section());
    for (const auto& [name, value] : redeclare) section = set_field(section, name, value);
    redeclare.clear();
    return section + *body;
  }

  std::optional<std::string> body_of(const mail::Message& m, std::size_t depth, const std::string& where) {
    if (depth > kMaxDepth)
      return refuse(where, "MIME nesting deeper than " + std::to_string(kMaxDepth) + "; left unchanged");
    gmime::ContentType ct = gmime::parse_content_type(header(m, "Content-Type"));
    const std::string full = ct.type + "/" + ct.subtype;
    if (full == "multipart/signed" || full == "multipart/encrypted" || full == "application/pkcs7-mime" ||
        full == "application/x-pkcs7-mime" || full == "application/pgp-encrypted")
      return refuse(where, full + " is signed or encrypted; never modified");
    if (ct.type == "multipart") return multipart(m.body(), ct.boundary, depth, where);
    if (full == "message/rfc822") {
      if (!options.enter_attached_messages ||
          gmime::parse_transfer_encoding(header(m, "Content-Transfer-Encoding")) != gmime::TransferEncoding::identity)
        return std::nullopt;
      return entity(m.body(), depth + 1, where + ".msg");
    }
    if (ct.type == "text" && (ct.subtype == "plain" || ct.subtype == "html")) return text_part(m, ct, where);
    return std::nullopt;
  }
};

}  // namespace

bool ascii_transparent(const std::string& cs) {
  if (cs.empty() || cs == "us-ascii" || cs == "ascii" || cs == "utf-8" || cs == "utf8") return true;
  for (std::string_view p : {"iso-8859-", "iso8859-", "windows-125", "cp125", "koi8-"})
    if (util::istarts_with(cs, p)) return true;
  return cs == "euc-jp" || cs == "euc-kr" || cs == "gb2312" || cs == "latin1";
}

WalkOutcome edit_text_parts(std::string_view message, const WalkOptions& options, const TextEditor& editor) {
  Walker w{options, editor, {}, {}};
  auto parsed = mail::Message::parse(message);
  if (!parsed) {
    w.refuse("message", "cannot be parsed (" + parsed.error().message + "); left unchanged");
    return std::move(w.outcome);
  }
  w.outcome.body = w.body_of(*parsed, 0, "part 1");
  w.outcome.message_headers = std::move(w.redeclare);
  return std::move(w.outcome);
}

}  // namespace mailmoat::links

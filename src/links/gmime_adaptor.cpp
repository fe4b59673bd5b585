#include "links/gmime_adaptor.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>

#include "util/strings.h"

namespace mailmoat::links::gmime {

namespace {

void ensure_init() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Quoted-printable (RFC 2045 6.7) straight from CRLF text: CRLF (and a bare LF, as
// before) is a hard line break; '=', controls, 8-bit bytes and a space or tab at the
// end of a line are =XX; encoded lines stay within 76 characters with soft breaks.
// Written here rather than through GMime's LF-only encoder, which needed the text
// converted to LF and back: two copies of every part and most of the encoding time.
enum QpClass : unsigned char { qp_literal, qp_space, qp_escape, qp_cr, qp_lf };

constexpr std::array<QpClass, 256> qp_classes() {
  std::array<QpClass, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c >= 33 && c <= 126 && c != '=') ? qp_literal : qp_escape;
  t[' '] = t['\t'] = qp_space;
  t['\r'] = qp_cr;
  t['\n'] = qp_lf;
  return t;
}

// Writes into a buffer sized for the worst case (every byte escaped, a soft break
// every 25 escapes) through a pointer: no per-character capacity checks.
std::string quoted_printable(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  static constexpr std::array<QpClass, 256> classes = qp_classes();
  const std::size_t n = text.size();
  std::string out(n * 3 + (n * 3 / 64 + 4) * 3, '\0');
  char* o = out.data();
  const char* line = o;  // where the current encoded line starts
  auto escape = [&](unsigned char c) {
    if (o - line > 72) {  // 72 + 3 = 75, and the soft break's '=' makes 76
      o[0] = '=', o[1] = '\r', o[2] = '\n';
      o += 3;
      line = o;
    }
    o[0] = '=', o[1] = hex[c >> 4], o[2] = hex[c & 15];
    o += 3;
  };
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (classes[c]) {
      case qp_space:
        if (i + 1 == n || text[i + 1] == '\n' || (text[i + 1] == '\r' && i + 2 < n && text[i + 2] == '\n')) {
          escape(c);  // white space at the end of a line would be stripped in transport
          break;
        }
        [[fallthrough]];
      case qp_literal:
        if (o - line > 74) {
          o[0] = '=', o[1] = '\r', o[2] = '\n';
          o += 3;
          line = o;
        }
        *o++ = static_cast<char>(c);
        break;
      case qp_cr:
        if (i + 1 < n && text[i + 1] == '\n') {
          o[0] = '\r', o[1] = '\n';
          o += 2;
          line = o;
          ++i;
        } else {
          escape(c);
        }
        break;
      case qp_lf:
        o[0] = '\r', o[1] = '\n';
        o += 2;
        line = o;
        break;
      case qp_escape:
        escape(c);
        break;
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

// Base64 (RFC 2045 6.8) in lines of 76 characters ending in CRLF.
std::string base64_lines(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 + (bytes.size() / 57 + 1) * 2);
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (std::size_t line = 0; line < bytes.size(); line += 57) {
    std::size_t end = std::min(bytes.size(), line + 57), i = line;
    for (; i + 3 <= end; i += 3) {
      unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
      char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
      out.append(quad, 4);
    }
    if (end - i == 1) {
      unsigned v = byte(i) << 16;
      char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
      out.append(quad, 4);
    } else if (end - i == 2) {
      unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
      char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
      out.append(quad, 4);
    }
    out += "\r\n";
  }
  return out;
}

GMimeContentEncoding gmime_encoding(TransferEncoding e) {
  return e == TransferEncoding::base64 ? GMIME_CONTENT_ENCODING_BASE64 : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

std::string run_decoder(std::string_view in, GMimeContentEncoding encoding) {
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, encoding);
  std::string out(g_mime_encoding_outlen(&state, in.size()) + 16, '\0');
  std::size_t n = g_mime_encoding_flush(&state, in.data(), in.size(), out.data());
  out.resize(n);
  return out;
}

}  // namespace

ContentType parse_content_type(std::string_view value) {
  ensure_init();
  ContentType ct;
  std::string text(util::trim(value));
  if (text.empty()) return ct;
  GMimeContentType* parsed = g_mime_content_type_parse(nullptr, text.c_str());
  if (parsed == nullptr) return ct;
  const char* type = g_mime_content_type_get_media_type(parsed);
  const char* subtype = g_mime_content_type_get_media_subtype(parsed);
  if (type && subtype && *type && *subtype) {
    ct.type = util::to_lower(type);
    ct.subtype = util::to_lower(subtype);
  }
  if (const char* b = g_mime_content_type_get_parameter(parsed, "boundary")) ct.boundary = b;
  if (const char* c = g_mime_content_type_get_parameter(parsed, "charset")) ct.charset = util::to_lower(c);
  g_object_unref(parsed);
  return ct;
}

bool is_attachment(std::string_view value) {
  ensure_init();
  std::string text(util::trim(value));
  if (text.empty()) return false;
  GMimeContentDisposition* d = g_mime_content_disposition_parse(nullptr, text.c_str());
  if (d == nullptr) return false;
  bool attachment = g_mime_content_disposition_is_attachment(d);
  g_object_unref(d);
  return attachment;
}

TransferEncoding parse_transfer_encoding(std::string_view value) {
  std::string v = util::to_lower(util::trim(value));
  if (v.empty() || v == "7bit" || v == "8bit" || v == "binary") return TransferEncoding::identity;
  if (v == "quoted-printable") return TransferEncoding::quoted_printable;
  if (v == "base64") return TransferEncoding::base64;
  return TransferEncoding::unknown;
}

std::string decode(std::string_view encoded, TransferEncoding encoding) {
  ensure_init();
  if (encoding == TransferEncoding::identity || encoding == TransferEncoding::unknown) return std::string(encoded);
  return run_decoder(encoded, gmime_encoding(encoding));
}

std::string encode(std::string_view decoded, TransferEncoding encoding) {
  ensure_init();
  if (encoding == TransferEncoding::identity || encoding == TransferEncoding::unknown) return std::string(decoded);
  if (encoding == TransferEncoding::base64) return base64_lines(decoded);
  return quoted_printable(decoded);
}

// iconv_open's failure value is (iconv_t)-1 (POSIX).
static bool iconv_failed(iconv_t cd) { return cd == reinterpret_cast<iconv_t>(-1); }  // NOLINT(performance-no-int-to-ptr)

bool charset_known(const std::string& charset) {
  ensure_init();
  iconv_t cd = g_mime_iconv_open("UTF-8", charset.c_str());
  if (iconv_failed(cd)) return false;
  g_mime_iconv_close(cd);
  return true;
}

std::optional<std::string> from_utf8(std::string_view utf8, const std::string& charset) {
  ensure_init();
  iconv_t cd = g_mime_iconv_open(charset.c_str(), "UTF-8");
  if (iconv_failed(cd)) return std::nullopt;
  std::string out;
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char buffer[1024];
  bool ok = true;
  while (in_left > 0) {
    char* o = buffer;
    std::size_t o_left = sizeof buffer;
    std::size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    out.append(buffer, sizeof buffer - o_left);
    if (r == static_cast<std::size_t>(-1) && errno != E2BIG) {
      ok = false;  // EILSEQ: not representable (or not UTF-8); EINVAL: truncated input
      break;
    }
    if (r != static_cast<std::size_t>(-1) && r > 0) {
      ok = false;  // glibc counts irreversible (substituted) conversions
      break;
    }
  }
  // Return a stateful encoding (ISO-2022-*) to its initial shift state.
  char* o = buffer;
  std::size_t o_left = sizeof buffer;
  if (ok && iconv(cd, nullptr, nullptr, &o, &o_left) != static_cast<std::size_t>(-1))
    out.append(buffer, sizeof buffer - o_left);
  g_mime_iconv_close(cd);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace mailmoat::links::gmime

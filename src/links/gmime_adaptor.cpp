#include "links/gmime_adaptor.h"

#include <gmime/gmime.h>

#include <cerrno>
#include <mutex>

#include "util/strings.h"

namespace mailmoat::links::gmime {

namespace {

void ensure_init() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string lf_to_crlf(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 64);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += in[i];
  }
  return out;
}

std::string crlf_to_lf(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!(in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n')) out += in[i];
  return out;
}

GMimeContentEncoding gmime_encoding(TransferEncoding e) {
  return e == TransferEncoding::base64 ? GMIME_CONTENT_ENCODING_BASE64 : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

std::string run(std::string_view in, GMimeContentEncoding encoding, bool encode) {
  GMimeEncoding state;
  if (encode)
    g_mime_encoding_init_encode(&state, encoding);
  else
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
  return run(encoded, gmime_encoding(encoding), false);
}

std::string encode(std::string_view decoded, TransferEncoding encoding) {
  ensure_init();
  if (encoding == TransferEncoding::identity || encoding == TransferEncoding::unknown) return std::string(decoded);
  if (encoding == TransferEncoding::base64) return lf_to_crlf(run(decoded, GMIME_CONTENT_ENCODING_BASE64, true));
  // Quoted-printable line breaks are the text's own: encode LF-only text, then restore CRLF.
  return lf_to_crlf(run(crlf_to_lf(decoded), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, true));
}

bool charset_known(const std::string& charset) {
  ensure_init();
  iconv_t cd = g_mime_iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  g_mime_iconv_close(cd);
  return true;
}

std::optional<std::string> from_utf8(std::string_view utf8, const std::string& charset) {
  ensure_init();
  iconv_t cd = g_mime_iconv_open(charset.c_str(), "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
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

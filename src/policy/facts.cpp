#include "policy/facts.h"

#include <gmime/gmime.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "mail/address.h"
#include "mail/message.h"
#include "util/strings.h"

namespace mailmoat::policy {

std::string domain_of(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string d = util::to_lower(address.substr(at + 1));
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

bool domain_in(std::string_view domain, const std::vector<std::string>& domains) {
  for (const auto& d : domains) {
    if (util::iequals(domain, d)) return true;
    if (domain.size() > d.size() && domain[domain.size() - d.size() - 1] == '.' &&
        util::iequals(domain.substr(domain.size() - d.size()), d))
      return true;
  }
  return false;
}

namespace {

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r' && c != '\n') out += c == '\t' ? ' ' : c;
  return std::string(util::trim(out));
}

// Markup is not text a sender wants read: keep what lies between tags. This is
// a tokenizer-free approximation, good enough for word conditions; it never
// builds a tree and cannot be made to loop.
std::string strip_tags(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    else if (c == '>' && in_tag) { in_tag = false; out += ' '; }
    else if (!in_tag) out += c;
  }
  return out;
}

struct Walk {
  std::string body;
  std::size_t limit = 0;
  bool truncated = false;
  std::vector<std::string> types;
  void add_type(const char* t) {
    for (const auto& x : types)
      if (x == t) return;
    types.emplace_back(t);
  }
};

bool is_utf8(std::string_view s) { return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr); }

// The decoded text of a part as UTF-8, up to its first NUL, as
// g_mime_text_part_get_text gives it. That runs every part with a charset
// through iconv, UTF-8 to UTF-8 included (~3% of the gateway's CPU in the
// end-to-end benchmark); a part that is already valid UTF-8 (or ASCII when it
// says US-ASCII) needs only its transfer encoding undone.
std::optional<std::string> text_of(GMimeTextPart* part) {
  const char* charset = g_mime_text_part_get_charset(part);
  const bool utf8 = !charset || util::iequals(charset, "utf-8") || util::iequals(charset, "utf8");
  const bool ascii = charset && util::iequals(charset, "us-ascii");
  if (utf8 || ascii) {
    if (GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(part))) {
      GMimeStream* mem = g_mime_stream_mem_new();
      g_mime_data_wrapper_write_to_stream(content, mem);
      GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
      std::string out(reinterpret_cast<const char*>(bytes->data), bytes->len);
      g_object_unref(mem);
      out.resize(std::strlen(out.c_str()));
      if (utf8 ? is_utf8(out) : !util::has_8bit(out)) return out;
    }
  }
  char* text = g_mime_text_part_get_text(part);
  if (!text) return std::nullopt;
  std::string out(text);
  g_free(text);
  return out;
}

void visit_part(GMimeObject*, GMimeObject* part, gpointer data) {
  auto& walk = *static_cast<Walk*>(data);
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  if (ct && g_mime_content_type_is_type(ct, "text", "calendar")) walk.add_type("calendar");
  if (GMIME_IS_MULTIPART_SIGNED(part)) walk.add_type("signed");
  if (GMIME_IS_MULTIPART_ENCRYPTED(part)) walk.add_type("encrypted");
  if (GMIME_IS_APPLICATION_PKCS7_MIME(part)) {
    const char* smime = ct ? g_mime_content_type_get_parameter(ct, "smime-type") : nullptr;
    walk.add_type(smime && util::iequals(smime, "signed-data") ? "signed" : "encrypted");
  }
  if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
    const char* rt = g_mime_content_type_get_parameter(ct, "report-type");
    if (rt && util::iequals(rt, "disposition-notification")) walk.add_type("read_receipt");
    if (rt && util::iequals(rt, "delivery-status")) walk.add_type("bounce");
  }
  if (!GMIME_IS_TEXT_PART(part) || g_mime_part_is_attachment(GMIME_PART(part)) || walk.body.size() >= walk.limit)
    return;
  bool html = ct && g_mime_content_type_is_type(ct, "text", "html");
  if (ct && !html && !g_mime_content_type_is_type(ct, "text", "plain")) return;
  std::optional<std::string> text = text_of(GMIME_TEXT_PART(part));
  if (!text) return;
  std::string piece = html ? strip_tags(*text) : std::move(*text);
  if (!walk.body.empty()) walk.body += '\n';
  std::size_t room = walk.limit - std::min(walk.limit, walk.body.size());
  if (piece.size() > room) {
    piece.resize(room);
    walk.truncated = true;
  }
  walk.body += piece;
}

void decode_mime(std::string_view bytes, MessageFacts& facts, std::size_t limit) {
  static std::once_flag init;
  std::call_once(init, [] { g_mime_init(); });
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  if (!message) {
    facts.body_problem = "the MIME structure could not be parsed";
    return;
  }
  if (const char* subject = g_mime_message_get_subject(message)) facts.subject = subject;
  Walk walk;
  walk.limit = limit;
  if (GMimeObject* top = g_mime_message_get_mime_part(message)) {
    visit_part(nullptr, top, &walk);
    if (GMIME_IS_MULTIPART(top)) g_mime_multipart_foreach(GMIME_MULTIPART(top), visit_part, &walk);
  }
  g_object_unref(message);
  facts.body = std::move(walk.body);
  facts.body_truncated = walk.truncated;
  for (auto& t : walk.types) facts.message_types.push_back(std::move(t));
}

void header_types(MessageFacts& facts) {
  auto add = [&](const char* t) {
    for (const auto& x : facts.message_types)
      if (x == t) return;
    facts.message_types.emplace_back(t);
  };
  for (const auto& [name, value] : facts.headers) {
    std::string v = util::to_lower(value);
    // RFC 3834 §5: auto-replied marks automatic responses; X-Autoreply is the common older marker.
    if (util::iequals(name, "Auto-Submitted") && v.starts_with("auto-replied")) add("auto_reply");
    if (util::iequals(name, "X-Autoreply") || util::iequals(name, "X-Autorespond")) add("auto_reply");
    // RFC 5322 §3.6.6: Resent-* fields are added by whoever re-sends (forwards) a message.
    if (util::istarts_with(name, "Resent-") || (util::iequals(name, "Auto-Submitted") && v.starts_with("auto-forwarded")))
      add("auto_forward");
  }
  if (facts.envelope_sender.empty()) add("bounce");
}

}  // namespace

MessageFacts build_facts(const FactsInput& in) {
  MessageFacts f;
  f.envelope_sender = util::to_lower(in.envelope_sender);
  for (const auto& r : in.envelope_recipients) f.envelope_recipients.push_back(util::to_lower(r));
  f.client_ip = in.client_ip;
  f.helo = in.helo;
  f.tls = in.tls;
  f.connector = in.connector;
  f.domain_secured = in.domain_secured;
  f.attachments = in.attachments;
  f.scl = in.scl;
  f.auth = in.auth;
  f.size = in.message.size();
  auto parsed = mail::Message::parse(in.message);
  if (parsed) {
    for (const auto& field : parsed->fields()) f.headers.emplace_back(std::string(field.name), unfold(field.value));
    if (const auto* from = parsed->find_first("From")) {
      auto boxes = mail::parse_mailbox_list(from->value);
      if (boxes && !boxes->empty())
        f.header_from = util::to_lower((*boxes)[0].local_part) + "@" + (*boxes)[0].domain;
    }
    decode_mime(in.message, f, in.body_limit);
  } else {
    f.body_problem = "header section cannot be parsed: " + parsed.error().message;
  }
  header_types(f);
  // An internal sender came through a relay or submission listener (which only
  // relay networks may use) with an address of ours; an inbound client claiming
  // one of our domains is still external.
  bool relayed = in.role == "relay" || in.role == "submission";
  f.sender_internal = relayed && domain_in(domain_of(f.envelope_sender), in.internal_domains);
  bool all_internal = !f.envelope_recipients.empty();
  for (const auto& r : f.envelope_recipients) all_internal &= domain_in(domain_of(r), in.internal_domains);
  f.direction = !f.sender_internal ? "inbound" : all_internal ? "internal" : "outbound";
  return f;
}

}  // namespace mailmoat::policy

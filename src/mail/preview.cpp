// GMime parses (it never fails on malformed MIME, it recovers), gumbo reduces
// HTML (it recovers like a browser). Every GObject created here is released
// before returning. Output strings pass through clean(): UTF-8 as GMime gave
// it, without control characters other than newline and tab.
#include "mail/preview.h"

#include <gmime/gmime.h>
#include <gumbo.h>
#include <sodium.h>

#include <mutex>

namespace mailmoat::mail {
namespace {

void init_libraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    [[maybe_unused]] int r = sodium_init();
  });
}

template <typename T>
struct Ref {
  T* p = nullptr;
  explicit Ref(T* o) : p(o) {}
  ~Ref() {
    if (p) g_object_unref(p);
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
};

struct GFree {
  char* p;
  ~GFree() { g_free(p); }
  std::string str() const { return p ? std::string(p) : std::string(); }
};

// Keeps \n and \t (when multiline), drops the other C0 controls and DEL, and
// cuts at `limit` bytes without splitting a UTF-8 sequence.
std::string clean(std::string_view s, std::size_t limit, bool multiline, bool& truncated) {
  std::string out;
  out.reserve(std::min(s.size(), limit));
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r') continue;
    if (u == '\n' || u == '\t') {
      out += multiline ? c : ' ';
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  if (out.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    truncated = true;
  }
  return out;
}

std::string unfold(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  std::size_t b = out.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : out.substr(b);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string media_type(GMimeObject* part) {
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  if (!ct) return "text/plain";
  GFree mt{g_mime_content_type_get_mime_type(ct)};
  return mt.p ? lower(mt.str()) : "application/octet-stream";
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  Ref<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, mem.p);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : h) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

void add_headers(GMimeObject* message, const PreviewLimits& limits, Preview& out) {
  GMimeHeaderList* list = g_mime_object_get_header_list(message);
  if (!list) return;
  int n = g_mime_header_list_get_count(list);
  for (int i = 0; i < n; ++i) {
    if (out.headers.size() >= limits.max_headers) {
      out.truncated = true;
      return;
    }
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    const char* name = g_mime_header_get_name(h);
    const char* raw = g_mime_header_get_raw_value(h);
    std::string value = unfold(raw ? raw : "");
    GFree decoded{g_mime_utils_header_decode_text(nullptr, value.c_str())};
    out.headers.emplace_back(clean(name ? name : "", 256, false, out.truncated),
                             clean(decoded.p ? decoded.str() : value, limits.max_header_value, false, out.truncated));
  }
}

struct Walker {
  const PreviewLimits& limits;
  Preview& out;
  bool have_text = false, have_html = false;
  std::size_t parts = 0;

  void visit(GMimeObject* object, std::size_t depth) {
    if (!object) return;
    if (depth > limits.max_depth || parts >= limits.max_parts) {
      out.truncated = true;
      return;
    }
    if (GMIME_IS_MULTIPART(object)) {
      int n = g_mime_multipart_get_count(GMIME_MULTIPART(object));
      for (int i = 0; i < n; ++i) visit(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      // An attached message is listed as one attachment; its own parts are its business.
      ++parts;
      Ref<GMimeStream> mem(g_mime_stream_mem_new());
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      if (inner) g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, mem.p);
      GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
      std::string_view content = bytes ? std::string_view(reinterpret_cast<const char*>(bytes->data), bytes->len)
                                       : std::string_view();
      GFree subject{inner ? g_strdup(g_mime_message_get_subject(inner)) : nullptr};
      out.attachments.push_back({clean(subject.str(), 256, false, out.truncated), "message/rfc822",
                                 content.size(), sha256_hex(content)});
    } else if (GMIME_IS_PART(object)) {
      ++parts;
      leaf(GMIME_PART(object));
    }
  }

  void leaf(GMimePart* part) {
    std::string type = media_type(GMIME_OBJECT(part));
    const char* fn = g_mime_part_get_filename(part);
    std::string name = fn ? fn : "";
    bool attachment = g_mime_part_is_attachment(part) || !name.empty() || type.rfind("text/", 0) != 0;
    if (!attachment && type == "text/plain" && !have_text && GMIME_IS_TEXT_PART(part)) {
      GFree text{g_mime_text_part_get_text(GMIME_TEXT_PART(part))};
      out.text = clean(text.str(), limits.max_text, true, out.truncated);
      have_text = true;
      return;
    }
    if (!attachment && type == "text/html" && !have_html && GMIME_IS_TEXT_PART(part)) {
      GFree html{g_mime_text_part_get_text(GMIME_TEXT_PART(part))};
      // gumbo's cost grows with nesting; bounding its input bounds the preview's time.
      std::string source = html.str();
      if (source.size() > 4 * limits.max_text) {
        source.resize(4 * limits.max_text);
        out.truncated = true;
      }
      std::string reduced = html_to_text(source, limits.max_text + 1);
      out.html_as_text = clean(reduced, limits.max_text, true, out.truncated);
      have_html = true;
      return;
    }
    if (!attachment) return;  // a second inline text part: shown by neither field, not an attachment
    std::string content = decoded_content(part);
    out.attachments.push_back({clean(name, 256, false, out.truncated), clean(type, 128, false, out.truncated),
                               content.size(), sha256_hex(content)});
  }
};

// HTML reduction: an explicit stack instead of recursion, so deeply nested
// hostile markup cannot exhaust the stack.
bool is_block(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_BR: case GUMBO_TAG_LI: case GUMBO_TAG_TR:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE: case GUMBO_TAG_HR:
      return true;
    default:
      return false;
  }
}

bool is_dropped(GumboTag t) {
  return t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_HEAD || t == GUMBO_TAG_TEMPLATE ||
         t == GUMBO_TAG_NOSCRIPT || t == GUMBO_TAG_OBJECT || t == GUMBO_TAG_IFRAME;
}

struct TextBuilder {
  std::string out;
  void text(std::string_view s) {
    for (char c : s) {
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
      if (space) {
        if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      } else {
        out += c;
      }
    }
  }
  void line_break() {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (!out.empty() && !out.ends_with("\n\n")) out += '\n';
  }
};

}  // namespace

std::string html_to_text(std::string_view html, std::size_t limit) {
  // cppcheck-suppress invalidLifetime ; false positive: html outlives the parse (cppcheck 2.10)
  GumboOutput* doc = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  TextBuilder b;
  // Each entry: a node to visit, or (node, true) to close an element after its children.
  std::vector<std::pair<const GumboNode*, bool>> stack{{doc->root, false}};
  while (!stack.empty() && b.out.size() <= limit) {
    auto [node, closing] = stack.back();
    stack.pop_back();
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA || node->type == GUMBO_NODE_WHITESPACE) {
      b.text(node->v.text.text);
      continue;
    }
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& e = node->v.element;
    if (closing) {
      if (e.tag == GUMBO_TAG_A) {
        if (const GumboAttribute* href = gumbo_get_attribute(&e.attributes, "href"); href && *href->value) {
          bool cut = false;
          b.text(" <");
          b.out += clean(href->value, 2048, false, cut);
          b.out += '>';
        }
      }
      if (is_block(e.tag)) b.line_break();
      continue;
    }
    if (is_dropped(e.tag)) continue;
    if (e.tag == GUMBO_TAG_IMG) {
      const GumboAttribute* alt = gumbo_get_attribute(&e.attributes, "alt");
      b.text(std::string("[image") + (alt && *alt->value ? ": " + std::string(alt->value) : "") + "]");
      continue;
    }
    if (is_block(e.tag)) b.line_break();
    stack.push_back({node, true});
    for (unsigned i = e.children.length; i > 0; --i)
      stack.push_back({static_cast<const GumboNode*>(e.children.data[i - 1]), false});
  }
  gumbo_destroy_output(&kGumboDefaultOptions, doc);
  while (!b.out.empty() && (b.out.back() == '\n' || b.out.back() == ' ')) b.out.pop_back();
  if (b.out.size() > limit) b.out.resize(limit);
  return b.out;
}

Preview preview_message(std::string_view message, const PreviewLimits& limits) {
  init_libraries();
  Preview out;
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  Ref<GMimeMessage> msg(g_mime_parser_construct_message(parser.p, nullptr));
  if (!msg.p) return out;
  add_headers(GMIME_OBJECT(msg.p), limits, out);
  Walker w{limits, out};
  w.visit(g_mime_message_get_mime_part(msg.p), 0);
  return out;
}

}  // namespace mailmoat::mail

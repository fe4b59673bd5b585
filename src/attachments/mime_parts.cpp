// GMime objects are reference counted GObjects; every one created here is
// released before returning (GObjectRef below), so a hostile message cannot
// leak memory across calls.
#include "attachments/mime_parts.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <mutex>

namespace mailmoat::attachments {
namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

template <typename T>
struct GObjectRef {
  T* p = nullptr;
  explicit GObjectRef(T* o) : p(o) {}
  ~GObjectRef() {
    if (p) g_object_unref(p);
  }
  GObjectRef(const GObjectRef&) = delete;
  GObjectRef& operator=(const GObjectRef&) = delete;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string media_type(GMimeObject* part) {
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  if (!ct) return "application/octet-stream";
  char* mt = g_mime_content_type_get_mime_type(ct);
  std::string out = mt ? lower(mt) : "application/octet-stream";
  g_free(mt);
  return out;
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  GObjectRef<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, mem.p);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

bool is_attachment(GMimePart* part, const std::string& type, const std::string& name) {
  if (g_mime_part_is_attachment(part) || !name.empty()) return true;
  return type.rfind("text/", 0) != 0;  // inline non-text parts (images, application/*)
}

struct Walker {
  const MimeLimits& limits;
  MimeWalk out;
  std::size_t leaves = 0;

  void visit(GMimeObject* object, std::size_t depth) {
    if (!object) return;
    if (depth > limits.max_depth || leaves >= limits.max_parts) {
      out.truncated = true;
      return;
    }
    if (GMIME_IS_MULTIPART(object)) {
      int n = g_mime_multipart_get_count(GMIME_MULTIPART(object));
      for (int i = 0; i < n; ++i) visit(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      if (inner) visit(g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_PART(object)) {
      leaf(GMIME_PART(object));
    }
  }

  void leaf(GMimePart* part) {
    std::size_t index = leaves++;
    std::string type = media_type(GMIME_OBJECT(part));
    const char* fn = g_mime_part_get_filename(part);
    std::string name = fn ? fn : "";
    if (!is_attachment(part, type, name)) {
      if (type == "text/plain" || type == "text/html") text_parts.push_back(part);
      return;
    }
    out.parts.push_back(MimePart{std::move(name), std::move(type), decoded_content(part), index});
  }

  // The text is read only for the attachments (archive passwords): a message
  // without any (most mail) does not have its bodies decoded here.
  void decode_text() {
    if (out.parts.empty()) return;
    for (GMimePart* part : text_parts) out.text += decoded_content(part) + "\n";
  }

  std::vector<GMimePart*> text_parts;  // owned by the parsed message, which outlives the walker's use
};

GMimeMessage* parse(GMimeStream* stream) {
  GObjectRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream));
  return g_mime_parser_construct_message(parser.p, nullptr);
}

}  // namespace

MimeWalk walk_mime(std::string_view message, const MimeLimits& limits) {
  init_gmime();
  GObjectRef<GMimeStream> stream(
      g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GObjectRef<GMimeMessage> msg(parse(stream.p));
  Walker w{limits, {}, 0, {}};
  if (msg.p) w.visit(g_mime_message_get_mime_part(msg.p), 0);
  w.decode_text();
  return std::move(w.out);
}

namespace {
struct Replacer {
  const std::vector<PartReplacement>& replacements;
  std::size_t leaves = 0;

  GMimeObject* notice_part(const std::string& text) {
    GMimeTextPart* t = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(t, text.c_str());
    return GMIME_OBJECT(t);
  }

  void visit(GMimeObject* object, std::size_t depth) {
    if (!object || depth > 32) return;
    if (GMIME_IS_MULTIPART(object)) {
      auto* mp = GMIME_MULTIPART(object);
      for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        if (GMIME_IS_PART(child)) {
          std::size_t index = leaves++;
          auto it = std::find_if(replacements.begin(), replacements.end(),
                                 [&](const PartReplacement& r) { return r.leaf_index == index; });
          if (it != replacements.end()) {
            GMimeObject* fresh = notice_part(it->notice);
            GMimeObject* old = g_mime_multipart_replace(mp, i, fresh);
            g_object_unref(fresh);
            if (old) g_object_unref(old);
          }
        } else {
          visit(child, depth + 1);
        }
      }
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      if (inner) visit(g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_PART(object)) {
      ++leaves;  // a single-part message: replaced by the caller below
    }
  }
};
}  // namespace

std::string replace_parts(std::string_view message, const std::vector<PartReplacement>& replacements) {
  init_gmime();
  GObjectRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GObjectRef<GMimeMessage> msg(parse(stream.p));
  if (!msg.p) return std::string(message);
  GMimeObject* root = g_mime_message_get_mime_part(msg.p);
  if (root && GMIME_IS_PART(root)) {
    for (const auto& r : replacements)
      if (r.leaf_index == 0) {
        Replacer rp{replacements};
        GMimeObject* fresh = rp.notice_part(r.notice);
        g_mime_message_set_mime_part(msg.p, fresh);
        g_object_unref(fresh);
      }
  } else {
    Replacer rp{replacements};
    rp.visit(root, 0);
  }
  GObjectRef<GMimeStream> out(g_mime_stream_mem_new());
  GMimeFormatOptions* opts = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_object_write_to_stream(GMIME_OBJECT(msg.p), opts, out.p);
  g_mime_format_options_free(opts);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.p));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace mailmoat::attachments

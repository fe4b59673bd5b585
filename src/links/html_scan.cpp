// find_html_urls: a streaming scanner that follows the HTML5 tokenizer
// (WHATWG HTML 13.2.5) only as far as finding URL attributes needs, with the
// source offsets of their values. No tree is built: the tree builder changes
// neither where a tag starts nor its attributes, and it decides only which
// tokenizer state follows a start tag (RAWTEXT/RCDATA/script data/PLAINTEXT,
// 13.2.6.4.7), which this scanner models itself, with SVG/MathML foreign content
// (13.2.6.5) counted so that <style> inside <svg> is not raw text. Where this
// differs from a full tree builder (elements the tree builder drops, such as a
// nested <form>) the scanner reports the attribute: rewriting a link a browser
// would not follow is harmless, missing one that it would follow is not.
#include <algorithm>
#include <cstring>
#include <optional>

#include "links/extract.h"
#include "links/url.h"
#include "util/utf8.h"

namespace mailmoat::links {

namespace {

struct Entity {
  std::string_view name;
  std::string_view value;
};
#include "links/html_entities.inc"

bool is_space(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

// An attribute name against a lower-case name. The standard makes every NUL in a
// name U+FFFD, so "\0href" is not href; gumbo (and maybe lenient parsers in mail
// clients) ignores one NUL before the name, not two: so does this, on the safe side.
bool name_equals(std::string_view raw, std::string_view name) {
  if (!raw.empty() && raw.front() == '\0') raw.remove_prefix(1);
  return iequals(raw, name);
}

// 13.2.5.80 "numeric character reference end state": C1 controls are read as windows-1252.
constexpr char32_t kC1[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                              0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                              0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                              0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

// "&#..." at s[i]; appends the character and returns the index after the reference.
std::size_t numeric_reference(std::string_view s, std::size_t i, std::string& out) {
  std::size_t j = i + 2;
  bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
  if (hex) ++j;
  std::size_t digits = j;
  char32_t cp = 0;
  for (; j < s.size(); ++j) {
    char c = s[j];
    int d = is_digit(c) ? c - '0' : (hex && lower(c) >= 'a' && lower(c) <= 'f') ? lower(c) - 'a' + 10 : -1;
    if (d < 0) break;
    cp = std::min<char32_t>(cp * (hex ? 16 : 10) + static_cast<char32_t>(d), 0x110000);  // saturate
  }
  if (j == digits) {  // "&#" or "&#x" without digits: not a reference, kept as written
    out.append(s.substr(i, j - i));
    return j;
  }
  if (j < s.size() && s[j] == ';') ++j;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  else if (cp >= 0x80 && cp <= 0x9F) cp = kC1[cp - 0x80];
  util::append_utf8(out, cp);
  return j;
}

// "&name" at s[i] (13.2.5.73): the longest name of the table that the input starts with.
std::size_t named_reference(std::string_view s, std::size_t i, std::string& out) {
  std::size_t run = i + 1;
  while (run < s.size() && run - i <= 32 && is_alnum(s[run])) ++run;
  if (run < s.size() && s[run] == ';') ++run;
  for (std::size_t end = run; end > i + 1; --end) {
    std::string_view name = s.substr(i + 1, end - i - 1);
    const Entity* hit = std::lower_bound(std::begin(kEntities), std::end(kEntities), name,
                                         [](const Entity& e, std::string_view n) { return e.name < n; });
    if (hit == std::end(kEntities) || hit->name != name) continue;
    // In attributes, a legacy name without ';' followed by '=' or an alphanumeric stays as written.
    if (name.back() != ';' && end < s.size() && (s[end] == '=' || is_alnum(s[end]))) {
      out.append(s.substr(i, end - i));
    } else {
      out.append(hit->value);
    }
    return end;
  }
  out += '&';
  return i + 1;
}

// An attribute value as the tokenizer hands it on: references decoded, NUL as U+FFFD.
std::string decode_attribute(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '&' && i + 1 < raw.size() && raw[i + 1] == '#') {
      i = numeric_reference(raw, i, out);
    } else if (c == '&' && i + 1 < raw.size() && is_alnum(raw[i + 1])) {
      i = named_reference(raw, i, out);
    } else {
      if (c == '\0') out += "\xEF\xBF\xBD";
      else out += c;
      ++i;
    }
  }
  return out;
}

struct Attr {
  bool present = false;
  std::size_t site = 0, site_length = 0;  // the value as written, quotes included
  std::string_view raw;                   // the value without quotes, references not decoded
};

struct Tag {
  char name[16] = {};  // lower case; names longer than 15 never match
  std::size_t name_length = 0;
  bool end = false, self_closing = false, font_breakout = false;
  Attr href, action, src;
  std::string_view name_view() const { return {name, name_length}; }
};

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Start tags that end foreign content (13.2.6.5, "A start tag whose tag name is one of ...").
bool breaks_out_of_foreign(std::string_view n) {
  return one_of(n, {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
                    "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
                    "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong", "strike",
                    "sub", "sup", "table", "tt", "u", "ul", "var"});
}

enum class TextMode : unsigned char { raw, script, plaintext, none };

// The tokenizer state an HTML start tag switches to (13.2.6.4.7 "in body", 13.2.6.4.4 "in head").
// <noscript> is not raw text: mail clients run no scripts, and with the scripting flag
// disabled its content is parsed as markup, so its links are links (as gumbo reads it).
TextMode text_mode(std::string_view n) {
  if (n == "script") return TextMode::script;
  if (n == "plaintext") return TextMode::plaintext;
  if (one_of(n, {"style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"}))
    return TextMode::raw;
  return TextMode::none;
}

struct Candidate {
  std::size_t site = 0, site_length = 0;
  std::string_view raw;
};

class Scanner {
 public:
  Scanner(std::string_view html, const HtmlScanOptions& options) : h_(html), options_(options) {}

  HtmlScan run() {
    scan_document();
    return finish();
  }

 private:
  std::string_view h_;
  const HtmlScanOptions& options_;
  std::size_t i_ = 0;
  int foreign_ = 0;  // open <svg>/<math> elements
  bool in_select_ = false;  // inside <select>: the tree builder ignores most start tags (13.2.6.4.16)
  std::vector<Candidate> candidates_;
  std::vector<std::string_view> bases_;  // raw hrefs of every <base href>, in order

  std::size_t find(char c, std::size_t from) const {
    if (from >= h_.size()) return std::string_view::npos;
    const void* p = std::memchr(h_.data() + from, c, h_.size() - from);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - h_.data()) : std::string_view::npos;
  }
  char at(std::size_t k) const { return k < h_.size() ? h_[k] : '\0'; }

  void scan_document() {
    while (i_ < h_.size()) {
      std::size_t lt = find('<', i_);
      if (lt == std::string_view::npos || lt + 1 >= h_.size()) return;
      i_ = lt + 1;
      char c = h_[i_];
      if (c == '!') {
        markup_declaration();
      } else if (c == '/') {
        end_tag_open();
      } else if (c == '?') {
        skip_past('>', i_);  // bogus comment
      } else if (is_alpha(c)) {
        Tag tag;
        if (!read_tag(tag)) return;  // EOF in a tag: the tag is never emitted
        if (!start_tag(tag)) return;
      }
      // anything else: the '<' was text
    }
  }

  void skip_past(char c, std::size_t from) {
    std::size_t k = find(c, from);
    i_ = k == std::string_view::npos ? h_.size() : k + 1;
  }

  // At "<!": comment, DOCTYPE, CDATA (foreign content only) or a bogus comment.
  void markup_declaration() {
    std::size_t s = i_ + 1;
    if (h_.substr(s, 2) == "--") return comment(s + 2);
    if (iequals(h_.substr(s, 7), "doctype")) return skip_past('>', s + 7);
    if (foreign_ > 0 && h_.substr(s, 7) == "[CDATA[") {
      std::size_t end = h_.find("]]>", s + 7);
      i_ = end == std::string_view::npos ? h_.size() : end + 3;
      return;
    }
    skip_past('>', s);
  }

  // After "<!--" (13.2.5.43-52): "<!-->" and "<!--->" are whole comments; otherwise the
  // comment ends at "--" (more dashes allowed) followed by ">" or "!>".
  void comment(std::size_t s) {
    if (at(s) == '>') { i_ = s + 1; return; }
    if (at(s) == '-' && at(s + 1) == '>') { i_ = s + 2; return; }
    for (std::size_t j = s;; ++j) {
      j = h_.find("--", j);
      if (j == std::string_view::npos) { i_ = h_.size(); return; }
      std::size_t k = j + 2;
      while (at(k) == '-') ++k;
      if (k < h_.size() && h_[k] == '>') { i_ = k + 1; return; }
      if (at(k) == '!' && at(k + 1) == '>') { i_ = k + 2; return; }
    }
  }

  void end_tag_open() {
    std::size_t s = i_ + 1;
    if (s >= h_.size()) { i_ = s; return; }  // "</" at EOF is text
    if (h_[s] == '>') { i_ = s + 1; return; }
    if (!is_alpha(h_[s])) return skip_past('>', s);  // bogus comment
    i_ = s;
    Tag tag;
    tag.end = true;
    if (!read_tag(tag)) return;
    std::string_view n = tag.name_view();
    if (foreign_ > 0 && (n == "svg" || n == "math")) --foreign_;
    if (n == "select") in_select_ = false;
  }

  // Remembers the attributes that matter; an attribute without a value counts (as empty).
  void keep(Tag& tag, std::string_view name, std::size_t site, std::size_t site_length, std::string_view raw) {
    if (tag.end) return;
    Attr* slot = nullptr;
    if (name_equals(name, "href") || (foreign_ > 0 && name_equals(name, "xlink:href"))) slot = &tag.href;
    else if (name_equals(name, "action")) slot = &tag.action;
    else if (name_equals(name, "src")) slot = &tag.src;
    else if (name_equals(name, "color") || name_equals(name, "face") || name_equals(name, "size")) tag.font_breakout = true;
    if (slot == nullptr || slot->present) return;  // the first of duplicate attributes counts
    *slot = {true, site, site_length, raw};
  }

  // From the first character of the tag name to just past '>'; false on EOF.
  bool read_tag(Tag& tag) {
    std::size_t j = i_;
    for (; j < h_.size() && !is_space(h_[j]) && h_[j] != '/' && h_[j] != '>'; ++j) {
      if (tag.name_length < sizeof tag.name - 1) tag.name[tag.name_length] = lower(h_[j]);  // NUL: matches nothing
      ++tag.name_length;
    }
    if (tag.name_length >= sizeof tag.name) tag.name_length = sizeof tag.name;  // matches nothing we look for
    return read_attributes(tag, j);
  }

  bool read_attributes(Tag& tag, std::size_t j) {
    for (;;) {
      while (j < h_.size() && is_space(h_[j])) ++j;
      if (j >= h_.size()) return false;
      if (h_[j] == '>') { i_ = j + 1; return true; }
      if (h_[j] == '/') {
        ++j;
        if (j < h_.size() && h_[j] == '>') { tag.self_closing = true; i_ = j + 1; return true; }
        continue;
      }
      std::size_t name_start = j++;  // a leading '=' belongs to the name
      while (j < h_.size() && !is_space(h_[j]) && h_[j] != '/' && h_[j] != '>' && h_[j] != '=') ++j;
      std::string_view name = h_.substr(name_start, j - name_start);
      while (j < h_.size() && is_space(h_[j])) ++j;
      if (j >= h_.size()) return false;
      if (h_[j] != '=') {  // an attribute without a value
        keep(tag, name, j, 0, {});
        continue;
      }
      if (!read_value(tag, name, ++j)) return false;
    }
  }

  // Before attribute value (13.2.5.36) onwards; j moves past the value.
  bool read_value(Tag& tag, std::string_view name, std::size_t& j) {
    while (j < h_.size() && is_space(h_[j])) ++j;
    if (j >= h_.size()) return false;
    char q = h_[j];
    if (q == '"' || q == '\'') {
      std::size_t close = find(q, j + 1);
      if (close == std::string_view::npos) return false;
      keep(tag, name, j, close + 1 - j, h_.substr(j + 1, close - j - 1));
      j = close + 1;
    } else if (q != '>') {
      std::size_t start = j;
      while (j < h_.size() && !is_space(h_[j]) && h_[j] != '>') ++j;
      if (j >= h_.size()) return false;
      keep(tag, name, start, j - start, h_.substr(start, j - start));
    } else {
      keep(tag, name, j, 0, {});  // "href=>": an empty value
    }
    return true;
  }

  void take(const Attr& attr) {
    if (attr.present) candidates_.push_back({attr.site, attr.site_length, attr.raw});
  }

  // An emitted start tag; false when the rest of the input is text (<plaintext>).
  bool start_tag(const Tag& tag) {
    std::string_view n = tag.name_view();
    if (n == "a" || n == "area") take(tag.href);
    else if (n == "form") take(tag.action);
    // <image> is <img> in HTML content; inside SVG/MathML it is reported too, because
    // where foreign content ends is modelled, not exact (a superset is the safe side).
    else if ((n == "img" || n == "image") && options_.images) take(tag.src);
    else if (n == "base" && tag.href.present) bases_.push_back(tag.href.raw);
    if (foreign_ > 0) {
      if (breaks_out_of_foreign(n) || (n == "font" && tag.font_breakout)) foreign_ = 0;
      else if ((n == "svg" || n == "math") && !tag.self_closing) ++foreign_;
      if (foreign_ > 0) return true;  // in SVG/MathML, no tag switches the tokenizer
    }
    if (in_select_) {
      // "In select": <select> closes it; <input>, <keygen>, <textarea> close it and are
      // handled as in body; <script> and <template> as in head; every other start tag is
      // ignored, so it switches nothing (<select><noframes></select><a href> is a link).
      if (n == "select") {
        in_select_ = false;
        return true;
      }
      if (n == "input" || n == "keygen" || n == "textarea") in_select_ = false;
      else if (n != "script") return true;
    } else if (n == "select") {
      in_select_ = true;
      return true;
    }
    if (n == "svg" || n == "math") {
      if (!tag.self_closing) ++foreign_;
      return true;
    }
    switch (text_mode(n)) {
      case TextMode::none: return true;
      case TextMode::plaintext: return false;
      case TextMode::raw: i_ = raw_text_end(n, i_); return true;
      case TextMode::script: i_ = script_end(i_); return true;
    }
    return true;
  }

  // "</name" followed by whitespace, '/' or '>' (an "appropriate end tag"), from `from`.
  bool end_tag_at(std::size_t k, std::string_view n) const {
    if (at(k) != '<' || at(k + 1) != '/' || k + 2 + n.size() >= h_.size()) return false;
    if (!iequals(h_.substr(k + 2, n.size()), n)) return false;
    char c = h_[k + 2 + n.size()];
    return is_space(c) || c == '/' || c == '>';
  }

  // Where the RAWTEXT/RCDATA of element `n` ends: at its end tag's '<', or the end of input.
  std::size_t raw_text_end(std::string_view n, std::size_t from) const {
    for (std::size_t k = find('<', from); k != std::string_view::npos; k = find('<', k + 1))
      if (end_tag_at(k, n)) return k;
    return h_.size();
  }

  // Script data with its escaped ("<!--") and double-escaped ("<!--<script>") states
  // (13.2.5.4, 13.2.5.15-31): "</script>" ends the script except when double-escaped.
  std::size_t script_end(std::size_t from) const {
    enum : unsigned char { data, escaped, double_escaped } state = data;
    for (std::size_t k = from; k < h_.size(); ++k) {
      char c = h_[k];
      if (state != data && c == '-' && h_.substr(k, 3) == "-->") {
        state = data;
        k += 2;
      } else if (c == '<') {
        if (state == data && h_.substr(k, 4) == "<!--") {
          state = escaped;
          k += 1;  // "<!-->" returns to script data at once: the "--" is looked at again
        } else if (end_tag_at(k, "script")) {
          if (state != double_escaped) return k;
          state = escaped;
        } else if (state == escaped && k + 7 < h_.size() && iequals(h_.substr(k + 1, 6), "script") &&
                   (is_space(h_[k + 7]) || h_[k + 7] == '/' || h_[k + 7] == '>')) {
          state = double_escaped;
        }
      }
    }
    return h_.size();
  }

  HtmlScan finish();
};

HtmlScan Scanner::finish() {
  HtmlScan scan;
  // The first <base href> that is a web URL. A browser takes the first <base href> of
  // its tree; one that the tree builder drops (inside <select>, say) is still seen
  // here, so a non-web first one does not stop the search: relative links are then
  // resolved and rewritten rather than left unprotected.
  std::optional<std::string> base;
  for (std::string_view raw : bases_) {
    std::string url = clean_attribute_url(decode_attribute(raw));
    if (is_web_url(url)) {
      base = std::move(url);
      break;
    }
  }
  scan.sites.reserve(candidates_.size());
  for (const Candidate& c : candidates_) {
    LinkTarget t = link_target(clean_attribute_url(decode_attribute(c.raw)), base);
    if (!t.url) {
      if (t.relative && !base) ++scan.skipped_relative;  // with a base that cannot resolve it: a broken link
      continue;
    }
    scan.sites.push_back({c.site, c.site_length, std::move(*t.url), true});
  }
  return scan;
}

}  // namespace

HtmlScan find_html_urls(std::string_view html, const HtmlScanOptions& options) {
  return Scanner(html, options).run();
}

}  // namespace mailmoat::links

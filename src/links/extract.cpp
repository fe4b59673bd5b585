#include "links/extract.h"

#include <gumbo.h>

#include <algorithm>
#include <optional>
#include <set>

#include "links/url.h"
#include "util/strings.h"

namespace mailmoat::links {

namespace {

bool url_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '<': case '>': case '"': case '`': case '{': case '}': case '|': case '\\': case '^':
      return false;
    default:
      return true;
  }
}

bool word_char(unsigned char c) { return std::isalnum(c) || c == '.' || c == '/' || c == '@' || c == '-' || c == '_'; }

// The end of a URL starting at `start`, without trailing punctuation.
std::size_t url_end(std::string_view text, std::size_t start) {
  std::size_t end = start;
  while (end < text.size() && url_char(static_cast<unsigned char>(text[end]))) ++end;
  while (end > start) {
    char last = text[end - 1];
    if (std::string_view(".,;:!?'*").find(last) != std::string_view::npos) {
      --end;
    } else if (last == ')' || last == ']') {
      char open = last == ')' ? '(' : '[';
      auto span = text.substr(start, end - start);
      if (std::count(span.begin(), span.end(), open) >= std::count(span.begin(), span.end(), last)) break;
      --end;
    } else {
      break;
    }
  }
  return end;
}

}  // namespace

std::vector<UrlSite> find_text_urls(std::string_view text) {
  std::vector<UrlSite> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t skip = 0;
    bool www = false;
    char c = util::ascii_lower(text[i]);
    if (c == 'h' && util::istarts_with(text.substr(i), "http://"))
      skip = 7;
    else if (c == 'h' && util::istarts_with(text.substr(i), "https://"))
      skip = 8;
    else if (c == 'w' && util::istarts_with(text.substr(i), "www."))
      www = true, skip = 4;
    if (skip == 0 || (i > 0 && word_char(static_cast<unsigned char>(text[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t end = url_end(text, i);
    if (end <= i + skip) {  // "http://" alone, or "www." followed by nothing
      i += skip;
      continue;
    }
    UrlSite site;
    site.offset = i;
    site.length = end - i;
    site.url = (www ? "http://" : "") + std::string(text.substr(i, end - i));
    out.push_back(std::move(site));
    i = end;
  }
  return out;
}

namespace {

struct Walker {
  std::string_view html;
  const HtmlScanOptions& options;
  std::optional<std::string> base;
  HtmlScan scan;
  std::set<std::size_t> seen;  // gumbo clones formatting elements; one source attribute, one site

  void take(const GumboAttribute* attr) {
    if (attr == nullptr || attr->original_value.length == 0 || attr->original_value.data == nullptr) return;
    const char* data = attr->original_value.data;
    if (data < html.data() || data + attr->original_value.length > html.data() + html.size()) return;
    std::size_t offset = static_cast<std::size_t>(data - html.data());
    if (!seen.insert(offset).second) return;
    std::string url = clean_attribute_url(attr->value);
    if (url.empty() || url[0] == '#') return;
    if (!is_web_url(url)) {
      // Anything with a scheme (mailto:, tel:, cid:, data:, javascript:) is not a web link.
      std::size_t colon = url.find(':');
      std::size_t stop = url.find_first_of("/?#");
      if (colon != std::string::npos && (stop == std::string::npos || colon < stop)) return;
      if (!base) {
        ++scan.skipped_relative;
        return;
      }
      auto resolved = resolve_reference(*base, url);
      if (!resolved || !is_web_url(*resolved)) return;
      url = std::move(*resolved);
    }
    scan.sites.push_back({offset, attr->original_value.length, std::move(url), true});
  }

  void element(const GumboElement& e) {
    const char* name = nullptr;
    switch (e.tag) {
      case GUMBO_TAG_A: case GUMBO_TAG_AREA: name = "href"; break;
      case GUMBO_TAG_FORM: name = "action"; break;
      case GUMBO_TAG_IMG: name = options.images ? "src" : nullptr; break;
      default: break;
    }
    if (name) take(gumbo_get_attribute(&e.attributes, name));
  }
};

// The first <base href> applies to the whole document (HTML "frozen base URL").
std::optional<std::string> find_base(const GumboNode* root) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) continue;
    if (n->v.element.tag == GUMBO_TAG_BASE) {
      const GumboAttribute* href = gumbo_get_attribute(&n->v.element.attributes, "href");
      if (!href) continue;
      std::string url = clean_attribute_url(href->value);
      if (is_web_url(url)) return url;
      return std::nullopt;
    }
    const GumboVector& kids = n->v.element.children;
    for (unsigned i = kids.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(kids.data[i]));
  }
  return std::nullopt;
}

}  // namespace

HtmlScan find_html_urls(std::string_view html, const HtmlScanOptions& options) {
  GumboOptions gumbo_options = kGumboDefaultOptions;
  gumbo_options.max_errors = 0;  // we only need the tree; do not collect parse errors
  GumboOutput* output = gumbo_parse_with_options(&gumbo_options, html.data(), html.size());
  Walker walker{html, options, find_base(output->root), {}, {}};
  // Iterative: hostile HTML nests deeper than any call stack.
  std::vector<const GumboNode*> stack{output->root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) continue;
    walker.element(n->v.element);
    const GumboVector& kids = n->v.element.children;
    for (unsigned i = kids.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(kids.data[i]));
  }
  gumbo_destroy_output(&gumbo_options, output);
  std::sort(walker.scan.sites.begin(), walker.scan.sites.end(),
            [](const UrlSite& a, const UrlSite& b) { return a.offset < b.offset; });
  return std::move(walker.scan);
}

}  // namespace mailmoat::links

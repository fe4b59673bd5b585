// Test oracle: URL extraction through gumbo's tree (the product code until the
// streaming scanner replaced it). Kept as it was, to compare against.
#include "gumbo_oracle.h"

#include <gumbo.h>

#include <algorithm>
#include <optional>
#include <set>

#include "links/url.h"

namespace mailmoat::links {

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
    // The product's rule for what a value links to (links::link_target); only the tree
    // (which <base>, which attribute) is gumbo's.
    LinkTarget t = link_target(clean_attribute_url(attr->value), base);
    if (!t.url) {
      if (t.relative && !base) ++scan.skipped_relative;
      return;
    }
    scan.sites.push_back({offset, attr->original_value.length, std::move(*t.url), true});
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

HtmlScan gumbo_find_html_urls(std::string_view html, const HtmlScanOptions& options) {
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

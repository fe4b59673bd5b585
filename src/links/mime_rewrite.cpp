#include "links/mime_rewrite.h"

#include <algorithm>

#include "links/extract.h"
#include "links/mime_walk.h"

namespace mailmoat::links {

namespace {

// The link as a double-quoted attribute value; runs without '&' or '"' are copied whole.
void append_html_attribute(std::string& out, std::string_view link) {
  out += '"';
  for (std::size_t pos = 0; pos < link.size();) {
    std::size_t special = link.find_first_of("&\"", pos);
    out.append(link.substr(pos, special == std::string_view::npos ? std::string_view::npos : special - pos));
    if (special == std::string_view::npos) break;
    out += link[special] == '&' ? "&amp;" : "&quot;";
    pos = special + 1;
  }
  out += '"';
}

// The URL-specific half: finds the links of one decoded text part and replaces them.
struct LinkEditor {
  const RewriteOptions& options;
  const LinkMaker& make_link;
  RewriteOutcome& outcome;

  // Replaces the URL sites of one decoded text; nullopt when nothing changed.
  std::optional<std::string> replace_sites(std::string_view text, const std::vector<UrlSite>& sites) {
    std::string out;
    std::size_t pos = 0;
    bool changed = false;
    for (const UrlSite& site : sites) {
      if (site.offset < pos) continue;
      if (outcome.rewritten >= options.max_urls) {
        ++outcome.left_over_cap;
        continue;
      }
      std::optional<std::string> link = make_link(site.url);
      if (!link) {
        ++outcome.left_by_policy;
        continue;
      }
      ++outcome.rewritten;
      if (!changed) out.reserve(text.size() + sites.size() * 160);
      out.append(text.substr(pos, site.offset - pos));
      if (site.html_attribute)
        append_html_attribute(out, *link);
      else
        out += *link;
      pos = site.offset + site.length;
      changed = true;
    }
    if (!changed) return std::nullopt;
    out.append(text.substr(pos));
    return out;
  }

  PartChange operator()(const TextPartView& part) {
    if (!ascii_transparent(part.type.charset)) {
      outcome.notes.push_back(part.where + ": charset " + part.type.charset +
                              " may hide ASCII in multibyte characters; part left unchanged");
      return {};
    }
    std::vector<UrlSite> sites;
    if (part.type.subtype == "html") {
      HtmlScan scan = find_html_urls(part.decoded, {options.rewrite_images});
      sites = std::move(scan.sites);
    } else {
      sites = find_text_urls(part.decoded);
    }
    PartChange change;
    change.text = replace_sites(part.decoded, sites);
    return change;
  }
};

}  // namespace

RewriteOutcome rewrite_message(std::string_view message, const RewriteOptions& options, const LinkMaker& make_link) {
  RewriteOutcome outcome;
  LinkEditor editor{options, make_link, outcome};
  WalkOptions walk;
  walk.max_part_bytes = options.max_part_bytes;
  // Notes in the order the parts were walked: the editor's and the walker's, merged.
  WalkOutcome walked = edit_text_parts(message, walk, std::ref(editor));
  outcome.body = std::move(walked.body);
  outcome.notes.insert(outcome.notes.end(), walked.notes.begin(), walked.notes.end());
  if (outcome.left_over_cap > 0)
    outcome.notes.push_back("message: " + std::to_string(outcome.left_over_cap) + " links over the cap of " +
                            std::to_string(options.max_urls) + " left unchanged");
  return outcome;
}

}  // namespace mailmoat::links

// Where the links of a text part are: bare URLs in text/plain (http://,
// https://, www.) and URL attributes in HTML (a/area href, form action, img
// src when asked, resolved against <base href>). HTML goes through a streaming
// scanner that follows the HTML5 tokenizer (html_scan.cpp) and reports the source
// offset of each attribute value, so a rewriter can change exactly those bytes
// and leave every other byte of the part as it was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::links {

struct UrlSite {
  std::size_t offset = 0;  // bytes to replace in the (transfer-decoded) part
  std::size_t length = 0;
  std::string url;             // the absolute destination, entities decoded
  bool html_attribute = false; // the site is a whole attribute value, quotes included
};

// Bare URLs in plain text, in order. Trailing punctuation ("see http://x.y/a.")
// and an unbalanced closing parenthesis are not part of the URL.
std::vector<UrlSite> find_text_urls(std::string_view text);

struct HtmlScanOptions {
  bool images = false;  // also img src
};

struct HtmlScan {
  std::vector<UrlSite> sites;        // web URLs (http, https) in source order
  std::size_t skipped_relative = 0;  // relative references without a <base href>
};

// Never fails: like the HTML5 tokenizer, the scanner has a defined reading of any input.
HtmlScan find_html_urls(std::string_view html, const HtmlScanOptions& options);

}  // namespace mailmoat::links

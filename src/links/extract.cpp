#include "links/extract.h"

#include <algorithm>
#include <cctype>

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

}  // namespace mailmoat::links

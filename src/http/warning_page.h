// The pages of the click service, self-contained: inline CSS, no JavaScript,
// no outside resources (a Content-Security-Policy of default-src 'none' is
// sent with them), every dynamic value HTML-escaped. The destination is shown
// as text, never as a link, except for the "continue anyway" link when allowed.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"

namespace mailmoat::http {

struct WarningPage {
  std::string rating;                  // "suspicious" | "malicious"
  std::string destination;
  std::vector<std::string> reasons;
  std::string continue_url;            // "" when click-through is not allowed
  std::string organization;
  std::string notice;
};

Response warning_page(const WarningPage& page);
// A plain page with a title and one paragraph (invalid link, preview answer).
Response message_page(int status, const std::string& title, const std::string& text);
std::string html_escape(const std::string& text);

}  // namespace mailmoat::http

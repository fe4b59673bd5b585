// Safe Links policies (docs/links.md): which recipients they cover, by
// priority, and what they decide: rewrite or not, internal mail too, a
// do-not-rewrite list, wait for a verdict before delivery, click-through,
// click tracking, branding. Host patterns follow Defender's semantics:
// "*.example.com" covers every subdomain but not example.com itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "links/url.h"

namespace mailmoat::links {

struct LinkPolicy {
  std::string name = "default";
  int priority = 1000;                  // lower first
  std::vector<std::string> recipients;  // domains ("example.com", "*.example.com") or addresses; empty: everyone
  bool enabled = true;
  bool rewrite_internal = false;          // mail from an internal sender to an internal recipient
  std::vector<std::string> do_not_rewrite;  // host patterns, or URL prefixes (anything with "://")
  bool wait_for_verdict = false;          // check every URL at delivery; malicious quarantines the message
  bool allow_click_through = false;
  bool track_clicks = true;
  std::string organization;               // shown on the warning page
  std::string notice;                     // custom text on the warning page
};

// "example.com" matches that host only; "*.example.com" matches its subdomains only.
bool host_matches(std::string_view pattern, std::string_view host);
bool covers_recipient(const LinkPolicy& policy, std::string_view address);
bool in_do_not_rewrite(const LinkPolicy& policy, std::string_view url, const UrlParts& parts);

// The policy of the lowest priority number covering `address`; `fallback` when none does.
const LinkPolicy& policy_for(const std::vector<LinkPolicy>& policies, std::string_view address,
                             const LinkPolicy& fallback);

}  // namespace mailmoat::links

// The Safe Links configuration keys ([links], [[links.policy]]), kept apart from
// config_schema.cpp so the feature's keys read in one place (docs/links.md).
#include "app/config_schema.h"

namespace mailmoat::app {

namespace {

std::vector<Field> policy_fields(LinkPolicyConfig& p, bool in_table) {
  std::vector<Field> f;
  if (in_table) {
    f.push_back({.key = "name", .target = &p.name, .doc = "name shown in the trace"});
    f.push_back({.key = "priority", .target = &p.priority, .doc = "lower numbers win when policies overlap",
                 .min = 0, .max = 1000000});
    f.push_back({.key = "recipients", .target = &p.recipients,
                 .doc = "recipient domains, \"*.domain\" (subdomains only) or addresses"});
    f.push_back({.key = "enabled", .target = &p.enabled, .doc = "rewrite links for these recipients"});
  }
  f.push_back({.key = "rewrite_internal", .target = &p.rewrite_internal,
               .doc = "also rewrite mail whose sender and recipients are all in accepted_domains"});
  f.push_back({.key = "do_not_rewrite", .target = &p.do_not_rewrite,
               .doc = "hosts (\"*.example.com\": subdomains only) or URL prefixes (with \"://\") left as they are"});
  f.push_back({.key = "wait_for_verdict", .target = &p.wait_for_verdict,
               .doc = "judge every URL at delivery (lists, heuristics; nothing is fetched); a malicious one quarantines"});
  f.push_back({.key = "allow_click_through", .target = &p.allow_click_through,
               .doc = "the warning page offers \"continue anyway\""});
  f.push_back({.key = "track_clicks", .target = &p.track_clicks, .doc = "record clicks in the URL trace"});
  f.push_back({.key = "organization", .target = &p.organization, .doc = "organization name on the warning page"});
  f.push_back({.key = "notice", .target = &p.notice, .doc = "custom text on the warning page"});
  return f;
}

}  // namespace

void bind_links_schema(Config& c, Schema& s) {
  auto& l = c.links;
  std::vector<Field> fields{
      {.key = "enabled", .target = &l.enabled, .doc = "rewrite links in inbound mail and answer clicks"},
      {.key = "public_url", .target = &l.public_url,
       .doc = "scheme://host[:port] users reach the click service at; empty: http://<http.listen>"},
      {.key = "keys", .target = &l.keys,
       .doc = "link signing keys (16+ bytes); the first signs, all verify; empty: data_dir/links.key", .secret = true},
      {.key = "max_urls", .target = &l.max_urls, .doc = "links rewritten per message; the rest stay as they are",
       .min = 0, .max = 1000000},
      {.key = "rewrite_images", .target = &l.rewrite_images, .doc = "also rewrite img src in HTML"},
      {.key = "block_lists", .target = &l.block_lists, .doc = "files of blocked domains, wildcards, URL prefixes, /regex/"},
      {.key = "allow_lists", .target = &l.allow_lists, .doc = "files of allowed ones, same formats"},
      {.key = "list_check_seconds", .target = &l.list_check_seconds,
       .doc = "how often list files are checked for changes", .min = 0, .max = 86400},
      {.key = "protected_domains", .target = &l.protected_domains,
       .doc = "domains and brands whose look-alikes are malicious (accepted_domains are added)"},
      {.key = "shorteners", .target = &l.shorteners, .doc = "URL shortener hosts, flagged as suspicious"},
      {.key = "resolve_shorteners", .target = &l.resolve_shorteners,
       .doc = "at click time, ask a listed shortener where its link leads and judge that destination"},
      {.key = "shortener_timeout_ms", .target = &l.shortener_timeout_ms,
       .doc = "how long a click waits for the shortener's answer", .min = 100, .max = 10000},
      {.key = "max_subdomain_depth", .target = &l.max_subdomain_depth,
       .doc = "more labels than this left of the last two is suspicious", .min = 1, .max = 100},
      {.key = "cache_entries", .target = &l.cache_entries, .doc = "verdicts cached", .min = 0, .max = 10000000},
      {.key = "cache_seconds", .target = &l.cache_seconds, .doc = "how long a verdict is cached", .min = 0,
       .max = 86400},
      {.key = "preview_agents", .target = &l.preview_agents,
       .doc = "User-Agent substrings of link previews and scanners: answered without recording or redirecting"},
  };
  for (auto& f : policy_fields(l.policy, false)) fields.push_back(std::move(f));
  s.sections.push_back(Section{"links", std::move(fields)});
  s.arrays.push_back(TableArray{
      "links.policy", "Safe Links policies for some recipients; the [links] keys are everyone else's",
      [&c] { return c.link_policies.size(); },
      [&c](std::size_t n) { c.link_policies.resize(n); },
      [&c](std::size_t i) { return policy_fields(c.link_policies[i], true); }});
}

}  // namespace mailmoat::app

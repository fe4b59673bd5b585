// The Safe Links click-time service (docs/links.md): GET /v1/l checks the
// link's signature (a bad one gets a 400 page and never a redirect, so
// mailmoat is no open redirector), judges the destination, and answers with a
// 302 when it is allowed or a warning page otherwise. GET /v1/continue is the
// warning page's "continue anyway", honoured only when the recipient's policy
// allows click-through. HEAD and link-preview/scanner user agents get a page
// without a redirect and without a click being recorded, so one-time links
// (magic logins, unsubscribe, confirmations) survive them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "links/policy.h"
#include "links/token.h"
#include "links/verdict.h"
#include "store/types.h"
#include "util/error.h"

namespace mailmoat::http {

struct ClickServiceConfig {
  std::shared_ptr<const links::LinkSigner> signer;
  links::LinkPolicy default_policy;
  std::vector<links::LinkPolicy> policies;
  std::shared_ptr<links::VerdictEngine> verdicts;
  std::vector<std::string> preview_agents;            // User-Agent substrings, ASCII case-insensitive
  std::function<void(store::ClickRecord)> record;     // must not block (the caller queues)
  std::function<std::int64_t()> now_micros;
  // When set (links.resolve_shorteners): where a listed shortener's link leads,
  // asked at click time only. Null: shortened links are judged as they are.
  std::function<util::Result<std::string>(const std::string& url)> shortener_destination;
  std::size_t shortener_hops = 3;  // shorteners that lead to shorteners, followed at most this far
};

class ClickService {
 public:
  explicit ClickService(ClickServiceConfig config);
  Response click(const Request& request) const;      // GET /v1/l
  Response proceed(const Request& request) const;    // GET /v1/continue
  Response head(const Request& request) const;       // HEAD on either

 private:
  bool is_preview(const Request& request) const;
  // The verdict on the link's destination; with shortener resolution, on where the
  // shortener leads (`destination` is then that address).
  links::UrlVerdict judge(const std::string& url, std::string& destination) const;
  // The policy that governs a click: the recipient's, or the one the link names for a message to many.
  const links::LinkPolicy& policy_of(const links::LinkFields& fields) const;
  void record(const Request& request, const links::ParsedLink& link, const links::UrlVerdict& verdict,
              store::ClickAction action, const links::LinkPolicy& policy) const;
  ClickServiceConfig config_;
};

void add_click_routes(Router& router, const std::shared_ptr<const ClickService>& service);

}  // namespace mailmoat::http

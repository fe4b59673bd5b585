#include "http/click_service.h"

#include "http/warning_page.h"
#include "util/strings.h"

namespace mailmoat::http {

namespace {

Response redirect(const std::string& url) {
  Response r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "Redirecting\n";
  r.headers = {{"Location", url}, {"Cache-Control", "no-store"}, {"Referrer-Policy", "no-referrer"}};
  return r;
}

Response invalid(const std::string& why) {
  return message_page(400, "This link is not valid",
                      "The link is damaged or was not made by this service, so it will not be followed (" + why + ").");
}

}  // namespace

// The agents are lower-cased once here and the User-Agent once per request, so each
// check is one substring search (it was a case-insensitive compare at every offset).
ClickService::ClickService(ClickServiceConfig config) : config_(std::move(config)) {
  for (auto& a : config_.preview_agents) a = util::to_lower(a);
  std::erase_if(config_.preview_agents, [](const std::string& a) { return a.empty(); });
}

bool ClickService::is_preview(const Request& request) const {
  std::string agent = util::to_lower(request.header("User-Agent"));
  for (const auto& a : config_.preview_agents)
    if (agent.find(a) != std::string::npos) return true;
  return false;
}

void ClickService::record(const Request& request, const links::ParsedLink& link, const links::UrlVerdict& verdict,
                          store::ClickAction action, const links::LinkPolicy& policy) const {
  if (!policy.track_clicks || !config_.record) return;
  store::ClickRecord c;
  c.at = config_.now_micros();
  c.recipient = link.fields.recipient;
  c.message_id = link.fields.message;
  c.url = link.fields.url;
  c.verdict = std::string(links::to_string(verdict.rating));
  c.reasons = verdict.reasons;
  if (!verdict.list_entry.empty()) c.reasons.push_back("list entry " + verdict.list_entry);
  c.action = action;
  c.client_ip = request.client_address;
  c.user_agent = request.header("User-Agent").substr(0, 512);
  config_.record(std::move(c));
}

links::UrlVerdict ClickService::judge(const std::string& url, std::string& destination) const {
  destination = url;
  links::UrlVerdict verdict = config_.verdicts->evaluate(url);
  if (!config_.shortener_destination) return verdict;
  std::vector<std::string> path;  // what each shortener answered, for the reasons
  for (std::size_t hop = 0; !verdict.shortener.empty() && verdict.rating != links::Rating::malicious; ++hop) {
    if (hop == config_.shortener_hops) {
      verdict.reasons.push_back("the shortened link still leads to a shortener after " + std::to_string(hop) + " steps");
      break;
    }
    auto next = config_.shortener_destination(destination);
    if (!next) {
      verdict.reasons.push_back("where the shortener leads could not be read (" + next.error().message + ")");
      break;
    }
    path.push_back(*next);
    destination = *next;
    verdict = config_.verdicts->evaluate(destination);
  }
  // The reasons say where the link really goes, first.
  for (auto it = path.rbegin(); it != path.rend(); ++it)
    verdict.reasons.insert(verdict.reasons.begin(), "the shortened link leads to " + *it);
  return verdict;
}

const links::LinkPolicy& ClickService::policy_of(const links::LinkFields& fields) const {
  // A message to several recipients names its policy; one to a single recipient names the recipient.
  if (fields.recipient.empty() && !fields.policy.empty())
    for (const auto& p : config_.policies)
      if (p.name == fields.policy) return p;
  return links::policy_for(config_.policies, fields.recipient, config_.default_policy);
}

Response ClickService::head(const Request&) const {
  // No signature check, verdict or record: a HEAD is a crawler's or a preview's, never a user's click.
  Response r;
  r.status = 200;
  r.content_type = "text/html; charset=utf-8";
  r.headers = {{"Cache-Control", "no-store"}};
  return r;
}

Response ClickService::click(const Request& request) const {
  auto link = links::parse_link(request.query);
  if (!link) return invalid(link.error().message);
  if (!config_.signer->verify(*link)) return invalid("the signature does not match");
  if (is_preview(request))
    return message_page(200, "Protected link", "This link is checked when a person opens it.");
  const links::LinkPolicy& policy = policy_of(link->fields);
  std::string destination;
  links::UrlVerdict verdict = judge(link->fields.url, destination);
  if (verdict.rating == links::Rating::allowed) {
    record(request, *link, verdict, store::ClickAction::allowed, policy);
    return redirect(destination);
  }
  record(request, *link, verdict, store::ClickAction::blocked, policy);
  WarningPage page;
  page.rating = std::string(links::to_string(verdict.rating));
  page.destination = destination;
  page.reasons = verdict.reasons;
  page.organization = policy.organization;
  page.notice = policy.notice;
  if (policy.allow_click_through) page.continue_url = "/v1/continue?" + request.query;
  return warning_page(page);
}

Response ClickService::proceed(const Request& request) const {
  auto link = links::parse_link(request.query);
  if (!link) return invalid(link.error().message);
  if (!config_.signer->verify(*link)) return invalid("the signature does not match");
  if (is_preview(request))
    return message_page(200, "Protected link", "This link is checked when a person opens it.");
  const links::LinkPolicy& policy = policy_of(link->fields);
  if (!policy.allow_click_through)
    return message_page(403, "Blocked", "Your organization does not allow continuing to this website.");
  std::string destination;
  links::UrlVerdict verdict = judge(link->fields.url, destination);
  record(request, *link, verdict,
         verdict.rating == links::Rating::allowed ? store::ClickAction::allowed : store::ClickAction::clicked_through,
         policy);
  return redirect(link->fields.url);
}

void add_click_routes(Router& router, const std::shared_ptr<const ClickService>& service) {
  router.add("GET", "/v1/l", [service](const Request& r) { return service->click(r); });
  router.add("HEAD", "/v1/l", [service](const Request& r) { return service->head(r); });
  router.add("GET", "/v1/continue", [service](const Request& r) { return service->proceed(r); });
  router.add("HEAD", "/v1/continue", [service](const Request& r) { return service->head(r); });
}

}  // namespace mailmoat::http

#include "app/quarantine_digest.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "app/links_setup.h"
#include "app/quarantine_service.h"
#include "log/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::app {

namespace {

constexpr std::string_view kUrlPrefix = "mailmoat:quarantine-release:";
constexpr const char* kRequestPrefix = "release_request:";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// One line of a digest: no CR, LF or other controls from a hostile subject.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

http::Response page(int status, const std::string& title, const std::string& body_html) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
           "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\"><h1>" +
           html_escape(title) + "</h1>" + body_html + "</body></html>";
  return r;
}

std::string utc_minute(std::int64_t micros) {
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  char buf[32];
  if (!gmtime_r(&t, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm) == 0) return "(time out of range)";
  return buf;
}

bool self_releasable(const std::vector<std::string>& reasons, const std::string& reason) {
  if (reason == "malware") return false;  // whatever the configuration says
  return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
}

}  // namespace

QuarantineDigest::QuarantineDigest(DigestSettings settings, links::LinkSigner signer, store::Stores& stores,
                                   QuarantineService& service, pipeline::MessageSink& queue)
    : settings_(std::move(settings)), signer_(std::move(signer)), stores_(stores), service_(service), queue_(queue) {}

std::string QuarantineDigest::link_for(std::int64_t id, const std::string& recipient, std::int64_t now_unix) const {
  links::LinkFields f;
  f.url = std::string(kUrlPrefix) + std::to_string(id) + ":" +
          std::to_string(now_unix + settings_.link_valid_days * 86400);
  f.message = std::to_string(id);
  f.recipient = recipient;
  std::string wrapped = signer_.wrap(f);
  return signer_.public_url() + "/v1/q/release?" + wrapped.substr(wrapped.find('?') + 1);
}

util::Result<DigestRun> QuarantineDigest::run(bool force) {
  const std::int64_t now = unix_now();
  DigestRun out;
  if (!force) {
    auto claimed = stores_.settings->claim("digest_claim:" + std::to_string(now / 86400), settings_.hostname);
    if (!claimed) return util::fail(claimed.error().message);
    if (!*claimed) {
      out.claimed = false;
      return out;
    }
  }
  auto last = stores_.settings->get("digest_last_until");
  if (!last) return util::fail(last.error().message);
  std::int64_t since = (now - 86400) * 1000000;
  if (*last)
    if (auto n = util::parse_uint(**last)) since = static_cast<std::int64_t>(*n);
  std::map<std::string, std::vector<store::QuarantineItem>> by_recipient;
  store::QuarantineQuery q;
  q.state = store::QuarantineState::held;
  q.since = since;
  q.limit = 1000;
  do {
    auto page = stores_.quarantine->list(q);
    if (!page) return util::fail(page.error().message);
    for (auto& item : page->items)
      for (const auto& r : item.recipients) by_recipient[util::to_lower(r)].push_back(item);
    q.cursor = page->next_cursor;
  } while (!q.cursor.empty());
  for (const auto& [recipient, items] : by_recipient) {
    if (auto sent = send_digest(recipient, items, now); !sent) return util::fail(sent.error().message);
    ++out.recipients;
    out.items += items.size();
  }
  if (auto s = stores_.settings->set("digest_last_until", std::to_string(now * 1000000)); !s)
    return util::fail(s.error().message);
  log::info("quarantine.digest_sent", {{"recipients", out.recipients}, {"items", out.items}, {"forced", force}});
  return out;
}

util::Result<void> QuarantineDigest::send_digest(const std::string& recipient,
                                                 const std::vector<store::QuarantineItem>& items, std::int64_t now) {
  std::string body = "Messages held in quarantine for you since the last digest (" + std::to_string(items.size()) +
                     "). They were not delivered because they look like spam or worse.\r\n\r\n";
  for (const auto& item : items) {
    bool self = self_releasable(settings_.self_release, item.reason);
    body += "From:    " + one_line(item.sender) + "\r\nSubject: " + one_line(item.subject) +
            "\r\nDate:    " + utc_minute(item.created_at) + "\r\nReason:  " + one_line(item.reason) + "\r\n" +
            (self ? "Release: " : "Request release: ") + link_for(item.id, recipient, now) + "\r\n\r\n";
  }
  body += "Links expire after " + std::to_string(settings_.link_valid_days) + " days.\r\n";
  auto ctx = std::make_shared<pipeline::MessageContext>();
  ctx->queue_id = queue_.next_queue_id();
  ctx->connection.role = "digest";
  ctx->connection.listener = "quarantine-digest";
  ctx->connection.client_address = "127.0.0.1";
  ctx->envelope.sender = settings_.from;
  ctx->envelope.body_type = "8BITMIME";
  ctx->envelope.recipients.push_back({recipient, "", ""});
  ctx->message = "From: " + settings_.from + "\r\nTo: " + recipient + "\r\nSubject: Quarantine digest: " +
                 std::to_string(items.size()) + " message(s) held for you\r\nDate: " + util::rfc5322_date(now) +
                 "\r\nMessage-ID: <digest." + ctx->queue_id + "@" + settings_.hostname +
                 ">\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body;
  ctx->notes.push_back({"quarantine", "digest", "digest of " + std::to_string(items.size()) + " item(s)"});
  pipeline::Submission submission;
  submission.context = ctx;
  std::promise<util::Result<void>> queued;
  auto done = queued.get_future();
  queue_.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  if (auto r = done.get(); !r) return util::fail("cannot queue the digest for " + recipient + ": " + r.error().message);
  return {};
}

std::variant<QuarantineDigest::Verified, http::Response> QuarantineDigest::verify(std::string_view query) const {
  auto bad = page(403, "Link not valid", "<p>This link was changed or was not made by this gateway.</p>");
  auto parsed = links::parse_link(query);
  if (!parsed || !signer_.verify(*parsed) || !parsed->fields.url.starts_with(kUrlPrefix)) return bad;
  auto rest = std::string_view(parsed->fields.url).substr(kUrlPrefix.size());
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return bad;
  auto id = util::parse_uint(rest.substr(0, colon));
  auto expiry = util::parse_uint(rest.substr(colon + 1));
  if (!id || !expiry || std::to_string(*id) != parsed->fields.message) return bad;
  if (static_cast<std::int64_t>(*expiry) < unix_now())
    return page(410, "Link expired", "<p>Ask your administrator to release the message.</p>");
  return Verified{static_cast<std::int64_t>(*id), parsed->fields.recipient, std::string(query)};
}

http::Response QuarantineDigest::release_page(const http::Request& request) {
  auto v = verify(request.query);
  if (auto* r = std::get_if<http::Response>(&v)) return *r;
  const auto& ok = std::get<Verified>(v);
  auto item = service_.get(ok.id);
  if (!item || !*item) return page(404, "Message not found", "<p>It may have expired.</p>");
  if ((*item)->state != store::QuarantineState::held)
    return page(409, "Nothing to release", "<p>This message was already " +
                                               std::string(store::to_string((*item)->state)) + ".</p>");
  bool self = self_releasable(settings_.self_release, (*item)->reason);
  std::string body = "<p>From: " + html_escape((*item)->sender) + "<br>Subject: " + html_escape((*item)->subject) +
                     "<br>Held because: " + html_escape((*item)->reason) + "</p>" +
                     "<form method=\"post\" action=\"/v1/q/release?" + html_escape(ok.query) + "\"><button>" +
                     (self ? "Release it to " : "Ask an administrator to release it to ") +
                     html_escape(ok.recipient) + "</button></form>";
  return page(200, self ? "Release this message?" : "Request release of this message?", body);
}

http::Response QuarantineDigest::release_confirm(const http::Request& request) {
  auto v = verify(request.query);
  if (auto* r = std::get_if<http::Response>(&v)) return *r;
  const auto& ok = std::get<Verified>(v);
  auto item = service_.get(ok.id);
  if (!item || !*item) return page(404, "Message not found", "<p>It may have expired.</p>");
  const store::QuarantineItem& it = **item;
  if (it.state != store::QuarantineState::held)
    return page(409, "Nothing to release",
                "<p>This message was already " + std::string(store::to_string(it.state)) + ".</p>");
  if (self_releasable(settings_.self_release, it.reason)) {
    auto released = service_.release(ok.id, "digest:" + ok.recipient, {ok.recipient});
    if (!released) return page(409, "Not released", "<p>" + html_escape(released.error().message) + "</p>");
    return page(200, "Released", "<p>The message is on its way to " + html_escape(ok.recipient) + ".</p>");
  }
  nlohmann::json j{{"id", ok.id},          {"recipient", ok.recipient}, {"at", unix_now() * 1000000},
                   {"reason", it.reason}, {"sender", it.sender},       {"subject", it.subject}};
  auto key = kRequestPrefix + std::to_string(ok.id) + ":" + ok.recipient;
  auto stored = stores_.settings->claim(key, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!stored) return page(500, "Try again later", "<p>The request could not be recorded.</p>");
  if (*stored) {
    store::AuditEntry e{0, unix_now() * 1000000, "digest:" + ok.recipient, "quarantine.release_request",
                        "quarantine/" + std::to_string(ok.id), "reason=" + it.reason};
    if (auto a = stores_.audit->append(e); !a) log::error("audit.write_failed", {{"error", a.error().message}});
  }
  return page(202, "Request sent", "<p>An administrator will review this " + html_escape(it.reason) +
                                       " message before it is released.</p>");
}

util::Result<std::vector<nlohmann::json>> QuarantineDigest::requests() {
  auto all = stores_.settings->all();
  if (!all) return std::unexpected(all.error());
  std::vector<nlohmann::json> out;
  for (const auto& [k, v] : *all) {
    if (!k.starts_with(kRequestPrefix)) continue;
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (!j.is_object()) continue;
    auto item = service_.get(j.value("id", std::int64_t{0}));
    j["state"] = item && *item ? std::string(store::to_string((*item)->state)) : "gone";
    out.push_back(std::move(j));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.value("at", 0ll) > b.value("at", 0ll); });
  return out;
}

DigestSchedule::DigestSchedule(boost::asio::io_context& io, QuarantineDigest& digest, int hour)
    : digest_(digest), hour_(hour), timer_(io) {}

// Joining its own worker cannot fail but by a bug, which ends the process either way (a
// joinable thread left behind terminates it too).
DigestSchedule::~DigestSchedule() {  // NOLINT(bugprone-exception-escape)
  timer_.cancel();
  if (worker_.joinable()) worker_.join();
}

void DigestSchedule::start() { arm(); }

void DigestSchedule::arm() {
  timer_.expires_after(std::chrono::minutes(5));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if ((unix_now() % 86400) / 3600 == hour_) {
      // The store and the queue hand-off block: off the event loop (one run at a time).
      if (worker_.joinable()) worker_.join();
      worker_ = std::thread([this] {
        auto r = digest_.run(false);
        if (!r) log::error("quarantine.digest_failed", {{"error", r.error().message}});
      });
    }
    arm();
  });
}

util::Result<std::unique_ptr<QuarantineDigest>> make_quarantine_digest(const Config& config, const std::string& hostname,
                                                                     store::Stores& stores, QuarantineService& service,
                                                                     pipeline::MessageSink& queue) {
  const auto& c = config.quarantine_digest;
  if (!c.enabled) return std::unique_ptr<QuarantineDigest>();
  if (c.from.empty() || c.from.find('@') == std::string::npos)
    return util::fail("quarantine_digest.from must be an address when quarantine_digest.enabled is true");
  auto keys = link_keys(config);
  if (!keys) return util::fail("quarantine_digest: " + keys.error().message);
  auto url = c.public_url.empty() ? links_public_url(config) : util::Result<std::string>(c.public_url);
  if (!url) return util::fail("quarantine_digest.public_url: " + url.error().message);
  auto signer = links::LinkSigner::create(*url, *keys);
  if (!signer) return util::fail("quarantine_digest: " + signer.error().message);
  DigestSettings s{c.from, c.self_release, c.link_valid_days, hostname};
  return std::make_unique<QuarantineDigest>(std::move(s), std::move(*signer), stores, service, queue);
}

void add_digest_routes(http::Router& router, QuarantineDigest* digest, const ApiAuth& auth) {
  if (digest) {
    router.add("GET", "/v1/q/release", [digest](const http::Request& req) { return digest->release_page(req); });
    router.add("POST", "/v1/q/release", [digest](const http::Request& req) { return digest->release_confirm(req); });
  }
  router.add("POST", "/api/v1/quarantine/digest",
             guarded(auth, Role::admin, [digest, &auth](const http::Request& req, const Principal& who) {
               auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
               if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
               for (auto& [k, v] : body.items())
                 if (k != "now" || !v.is_boolean()) return api_error(400, "unknown or invalid field \"" + k + "\"");
               if (!digest) return api_error(409, "digests are off (quarantine_digest.enabled = false)");
               auto r = digest->run(body.value("now", false));
               if (!r) return api_error(500, r.error().message);
               auth.audit(who, "quarantine.digest", "quarantine", "recipients=" + std::to_string(r->recipients));
               nlohmann::json j{{"sent", r->claimed}, {"recipients", r->recipients}, {"items", r->items}};
               return http::Response::json(200, j.dump());
             }));
  router.add("GET", "/api/v1/quarantine/requests",
             guarded(auth, Role::viewer, [digest](const http::Request& req, const Principal&) {
               if (!req.query.empty()) return api_error(400, "this route takes no parameters");
               if (!digest) return http::Response::json(200, R"({"items":[]})");
               auto all = digest->requests();
               if (!all) return api_error(500, all.error().message);
               return http::Response::json(
                   200, nlohmann::json{{"items", *all}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
             }));
}

}  // namespace mailmoat::app

#include "app/quarantine_actions.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "app/quarantine_service.h"
#include "log/log.h"
#include "mail/preview.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unexpected<ActionError> error(int status, std::string message) {
  return std::unexpected(ActionError{status, std::move(message)});
}

// "key=value" out of the attachment filter's trace detail (name="..." key=value ...).
std::string detail_value(const std::string& detail, const std::string& key) {
  std::string needle = " " + key + "=";
  auto at = detail.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  auto end = detail.find(' ', at);
  return detail.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// sha256 -> verdict, from the attachment facts the trace recorded for the message.
std::map<std::string, std::string> traced_verdicts(store::TraceStore& trace, const std::string& queue_id) {
  std::map<std::string, std::string> out;
  auto detail = trace.detail(queue_id);
  if (!detail) return out;
  for (const auto& e : detail->events) {
    auto j = nlohmann::json::parse(e.detail, nullptr, false);
    if (!j.is_object() || j.value("filter", "") != "attachments" || j.value("event", "") != "attachment") continue;
    std::string d = j.value("detail", "");
    std::string sha = detail_value(d, "sha256"), verdict = detail_value(d, "verdict");
    if (!sha.empty() && !verdict.empty()) out[sha] = verdict;
  }
  return out;
}

nlohmann::json preview_json(const store::QuarantineItem& item, const std::map<std::string, std::string>& verdicts) {
  mail::Preview p = mail::preview_message(item.raw);
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : p.headers) headers.push_back({{"name", name}, {"value", value}});
  nlohmann::json attachments = nlohmann::json::array();
  for (const auto& a : p.attachments) {
    auto v = verdicts.find(a.sha256);
    attachments.push_back({{"name", a.name},
                           {"type", a.type},
                           {"size", a.size},
                           {"sha256", a.sha256},
                           {"verdict", v == verdicts.end() ? "not_analyzed" : v->second}});
  }
  return {{"id", item.id},          {"reason", item.reason}, {"headers", headers},
          {"text", p.text},         {"html_as_text", p.html_as_text},
          {"attachments", attachments}, {"truncated", p.truncated}};
}

std::optional<FalsePositive> parse_false_positive(const std::string& key, const std::string& value) {
  auto id = util::parse_uint(std::string_view(key).substr(std::strlen(kFalsePositivePrefix)));
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!id || !j.is_object()) return std::nullopt;
  FalsePositive f;
  f.id = static_cast<std::int64_t>(*id);
  f.queue_id = j.value("queue_id", "");
  f.sender = j.value("sender", "");
  f.subject = j.value("subject", "");
  f.reason = j.value("reason", "");
  f.by = j.value("by", "");
  f.note = j.value("note", "");
  f.at = j.value("at", std::int64_t{0});
  return f;
}

}  // namespace

QuarantineActions::QuarantineActions(QuarantineService& service, store::TraceStore& trace, store::Settings& settings,
                                     store::AuditLog& audit, std::function<void()> allow_list_changed)
    : service_(service), trace_(trace), settings_(settings), audit_(audit),
      allow_list_changed_(std::move(allow_list_changed)) {}

ActionResult<store::QuarantineItem> QuarantineActions::held_or_released(std::int64_t id) {
  auto item = service_.get(id);
  if (!item) return error(500, item.error().message);
  if (!*item) return error(404, "no quarantined message with that id");
  if ((*item)->state == store::QuarantineState::deleted) return error(409, "the message was deleted");
  return std::move(**item);
}

ActionResult<nlohmann::json> QuarantineActions::preview(std::int64_t id, const std::string& actor, bool admin) {
  auto item = held_or_released(id);
  if (!item) return std::unexpected(item.error());
  // A viewer may read what spam says, not what malware carries.
  if (item->reason == "malware" && !admin) return error(403, "previewing a malware item needs the admin role");
  auto j = preview_json(*item, traced_verdicts(trace_, item->queue_id));
  audit(actor, "quarantine.preview", id, "");
  return j;
}

ActionResult<std::string> QuarantineActions::allow_sender(std::int64_t id, const std::string& actor) {
  auto item = held_or_released(id);
  if (!item) return std::unexpected(item.error());
  std::string sender = util::to_lower(item->sender);
  if (sender.empty() || sender.find('@') == std::string::npos)
    return error(409, "the message has no envelope sender to allow (a bounce)");
  nlohmann::json j{{"by", actor}, {"at", now_micros()}, {"quarantine_id", id}, {"queue_id", item->queue_id}};
  if (auto r = settings_.set(kSenderAllowPrefix + sender, j.dump()); !r) return error(500, r.error().message);
  audit(actor, "quarantine.allow_sender", id, "sender=" + sender);
  if (allow_list_changed_) allow_list_changed_();
  log::info("quarantine.sender_allowed", {{"item", id}, {"sender", sender}, {"by", actor}});
  return sender;
}

ActionResult<FalsePositive> QuarantineActions::report_false_positive(std::int64_t id, const std::string& actor,
                                                                     const std::string& note) {
  auto item = held_or_released(id);
  if (!item) return std::unexpected(item.error());
  const std::string key = kFalsePositivePrefix + std::to_string(id);
  auto existing = settings_.get(key);
  if (!existing) return error(500, existing.error().message);
  if (*existing) return error(409, "message " + std::to_string(id) + " was already reported as a false positive");
  FalsePositive f{id, item->queue_id, item->sender, item->subject, item->reason, actor, note, now_micros()};
  nlohmann::json j{{"queue_id", f.queue_id}, {"sender", f.sender}, {"subject", f.subject}, {"reason", f.reason},
                   {"by", f.by},             {"note", f.note},     {"at", f.at}};
  if (auto r = settings_.set(key, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); !r)
    return error(500, r.error().message);
  audit(actor, "quarantine.false_positive", id, "reason=" + item->reason + (note.empty() ? "" : " note=" + note));
  return f;
}

util::Result<std::vector<FalsePositive>> QuarantineActions::false_positives() {
  auto all = settings_.all();
  if (!all) return std::unexpected(all.error());
  std::vector<FalsePositive> out;
  for (const auto& [k, v] : *all)
    if (k.starts_with(kFalsePositivePrefix))
      if (auto f = parse_false_positive(k, v)) out.push_back(std::move(*f));
  std::sort(out.begin(), out.end(), [](const FalsePositive& a, const FalsePositive& b) { return a.at > b.at; });
  return out;
}

void QuarantineActions::audit(const std::string& actor, const std::string& action, std::int64_t id,
                              const std::string& detail) {
  store::AuditEntry e;
  e.at = now_micros();
  e.actor = actor;
  e.action = action;
  e.target = "quarantine/" + std::to_string(id);
  e.detail = detail;
  if (auto r = audit_.append(e); !r)
    log::error("audit.write_failed", {{"action", action}, {"target", e.target}, {"error", r.error().message}});
}

SharedSenderAllowList::SharedSenderAllowList(store::Settings& settings, std::chrono::milliseconds interval)
    : settings_(settings), interval_(interval), list_(std::make_shared<const std::vector<std::string>>()) {
  refresh();
  thread_ = std::thread([this] { run(); });
}

SharedSenderAllowList::~SharedSenderAllowList() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const std::vector<std::string>> SharedSenderAllowList::current() const {
  std::lock_guard lock(mu_);
  return list_;
}

std::vector<std::string> SharedSenderAllowList::from_settings(
    const std::vector<std::pair<std::string, std::string>>& all) {
  std::vector<std::string> out;
  for (const auto& [k, v] : all)
    if (k.starts_with(kSenderAllowPrefix)) out.push_back(util::to_lower(k.substr(std::strlen(kSenderAllowPrefix))));
  return out;
}

void SharedSenderAllowList::refresh() {
  auto all = settings_.all();
  if (!all) {
    log::warn("sender_allow.refresh_failed", {{"error", all.error().message}, {"kept", "last list"}});
    return;
  }
  auto list = std::make_shared<const std::vector<std::string>>(from_settings(*all));
  std::lock_guard lock(mu_);
  list_ = std::move(list);
}

void SharedSenderAllowList::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) break;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

}  // namespace mailmoat::app

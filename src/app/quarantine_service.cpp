#include "app/quarantine_service.h"

#include <chrono>
#include <future>

#include "log/log.h"
#include "util/strings.h"
#include "util/time.h"

namespace mailmoat::app {

namespace {

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Header fields may carry only printable ASCII here; anything else in an actor
// name is replaced so the header stays well-formed.
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s) out += (c >= 0x21 && c <= 0x7e && c != ';') ? c : '_';
  return out;
}

}  // namespace

QuarantineService::QuarantineService(store::QuarantineStore& store, store::AuditLog& audit,
                                     pipeline::MessageSink& queue, std::string hostname, TraceEvents trace)
    : store_(store), audit_(audit), queue_(queue), hostname_(std::move(hostname)), trace_(std::move(trace)) {}

util::Result<store::Page<store::QuarantineItem>> QuarantineService::list(const store::QuarantineQuery& query) {
  return store_.list(query);
}

util::Result<std::optional<store::QuarantineItem>> QuarantineService::get(std::int64_t id) { return store_.get(id); }

util::Result<std::string> QuarantineService::download(std::int64_t id, const std::string& actor) {
  auto item = store_.get(id);
  if (!item) return util::fail(item.error().message);
  if (!*item) return util::fail("no quarantined message " + std::to_string(id));
  if ((*item)->state == store::QuarantineState::deleted) return util::fail("the message was deleted");
  audit(actor, "quarantine.download", id, "");
  return std::move((*item)->raw);
}

util::Result<ReleaseOutcome> QuarantineService::release(std::int64_t id, const std::string& actor,
                                                        const std::vector<std::string>& to) {
  auto found = store_.get(id);
  if (!found) return util::fail(found.error().message);
  if (!*found) return util::fail("no quarantined message " + std::to_string(id));
  store::QuarantineItem& item = **found;
  if (item.state != store::QuarantineState::held)
    return util::fail("message " + std::to_string(id) + " is " + std::string(store::to_string(item.state)) +
                      ", not held");
  std::vector<std::string> recipients;
  for (const auto& r : to) {
    bool known = false;
    for (const auto& q : item.recipients) known |= util::iequals(q, r);
    if (!known) return util::fail(r + " is not a recipient of message " + std::to_string(id));
    recipients.push_back(r);
  }
  if (recipients.empty()) recipients = item.recipients;

  auto ctx = std::make_shared<pipeline::MessageContext>();
  ctx->queue_id = queue_.next_queue_id();
  ctx->connection.role = "release";
  ctx->connection.listener = "quarantine";
  ctx->connection.client_address = "127.0.0.1";
  ctx->envelope.sender = item.sender;
  ctx->envelope.body_type = "8BITMIME";
  for (const auto& r : recipients) ctx->envelope.recipients.push_back({r, "", ""});
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  ctx->message = "X-Mailmoat-Released: quarantine=" + std::to_string(id) + "; by=" + header_safe(actor) +
                 "; host=" + header_safe(hostname_) + "; " + util::rfc5322_date(now_s) + "\r\n" + item.raw;
  ctx->notes.push_back({"quarantine", "released",
                        "released from quarantine item " + std::to_string(id) + " (message " + item.queue_id +
                            ", " + item.reason + ") by " + actor});
  const std::string new_id = ctx->queue_id;

  pipeline::Submission submission;
  submission.context = ctx;
  std::promise<util::Result<void>> queued;
  auto queued_future = queued.get_future();
  queue_.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  if (auto r = queued_future.get(); !r) return util::fail("cannot queue the released message: " + r.error().message);

  auto marked = store_.release(id, actor, recipients);
  if (!marked) {
    // Queued already: the message will be delivered; say so rather than pretend it failed.
    log::error("quarantine.release_mark_failed", {{"item", id}, {"queue_id", new_id}, {"error", marked.error().message}});
  }
  std::string to_list;
  for (const auto& r : recipients) to_list += (to_list.empty() ? "" : ",") + r;
  audit(actor, "quarantine.release", id, "queue_id=" + new_id + " to=" + to_list);
  if (trace_)
    for (const auto& r : recipients)
      trace_(queue::QueueEvent{item.queue_id, "released", r, "by " + actor + " as " + new_id, nullptr, {}});
  log::info("quarantine.released", {{"item", id}, {"queue_id", new_id}, {"by", actor}, {"rcpts", recipients.size()}});
  return ReleaseOutcome{new_id, recipients};
}

util::Result<void> QuarantineService::remove(std::int64_t id, const std::string& actor) {
  auto found = store_.get(id);
  if (!found) return util::fail(found.error().message);
  if (!*found) return util::fail("no quarantined message " + std::to_string(id));
  if (auto r = store_.remove(id, actor); !r) return r;
  audit(actor, "quarantine.delete", id, "");
  if (trace_) trace_(queue::QueueEvent{(*found)->queue_id, "deleted", "", "from quarantine by " + actor, nullptr, {}});
  log::info("quarantine.deleted", {{"item", id}, {"by", actor}});
  return {};
}

void QuarantineService::audit(const std::string& actor, const std::string& action, std::int64_t id,
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

}  // namespace mailmoat::app

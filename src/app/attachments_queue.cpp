#include "app/attachments_queue.h"

#include <future>
#include <random>

#include "log/log.h"
#include "pipeline/chain.h"
#include "util/time.h"

namespace mailmoat::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kDynamicMarker = "dynamic delivery";

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_token() {
  std::random_device rd;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 24; ++i) out += kHex[rd() % 16];
  return out;
}

// Header text from untrusted input: printable ASCII only, one line.
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s) out += (c >= 0x20 && c <= 0x7e) ? c : '_';
  return out.substr(0, 400);
}

}  // namespace

bool is_attachment_hold(const std::string& hold_reason) {
  return hold_reason.starts_with("attachments: " + std::string(filters::kPendingReason));
}

AttachmentHolds::AttachmentHolds(queue::QueueManager& queue, filters::AttachmentFilter& filter, Run run,
                                 std::shared_ptr<DynamicStore> dynamic)
    : queue_(queue), filter_(filter), run_(std::move(run)), dynamic_(std::move(dynamic)) {}

void AttachmentHolds::on_event(const queue::QueueEvent& e) {
  if (e.type != "held" || !e.message || !is_attachment_hold(e.message->hold_reason)) return;
  {
    std::lock_guard lock(mu_);
    if (!busy_.insert(e.queue_id).second) return;
    held_at_[e.queue_id] = Clock::now();
  }
  run_([this, id = e.queue_id] { analyse(id); });
}

std::size_t AttachmentHolds::resume() {
  std::size_t n = 0;
  for (const auto& m : queue_.list()) {
    if (!m.held || !is_attachment_hold(m.hold_reason)) continue;
    {
      std::lock_guard lock(mu_);
      if (!busy_.insert(m.id).second) continue;
    }
    ++n;
    queue_.note(m.id, "attachments.resumed", "analysis of the held message resumed after a restart");
    run_([this, id = m.id] { analyse(id); });
  }
  if (n > 0) log::info("attachments.holds_resumed", {{"messages", n}});
  return n;
}

void AttachmentHolds::analyse(const std::string& id) {
  auto finished = [this, &id] {
    std::lock_guard lock(mu_);
    busy_.erase(id);
    held_at_.erase(id);
  };
  auto meta = queue_.find(id);
  if (!meta || !meta->held || !is_attachment_hold(meta->hold_reason)) return finished();
  auto bytes = queue_.read_message(id);
  if (!bytes) {
    // Stays held (visible in `mailmoat queue list`); an administrator may release it.
    log::error("attachments.hold_read_failed", {{"id", id}, {"error", bytes.error().message}});
    queue_.note(id, "attachments.error", "cannot read the held message: " + bytes.error().message);
    return finished();
  }
  pipeline::MessageContext ctx;
  ctx.queue_id = id;
  ctx.message = std::move(*bytes);
  ctx.envelope = meta->envelope;
  ctx.connection.role = meta->role;
  ctx.connection.listener = meta->listener;
  ctx.connection.client_address = meta->client_address;
  ctx.connection.helo = meta->helo;
  const auto began = Clock::now();
  pipeline::Verdict v = filter_.analyse_held(ctx);
  const auto analysis_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  std::int64_t waited_ms = unix_millis() - meta->received_at * 1000;  // after a restart: since it was received
  {
    std::lock_guard lock(mu_);
    if (auto it = held_at_.find(id); it != held_at_.end())
      waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - it->second).count();
  }
  for (const auto& n : ctx.notes) queue_.note(id, "attachments." + n.event, n.detail);
  const std::string timing =
      "analysis_ms=" + std::to_string(analysis_ms) + " waited_ms=" + std::to_string(waited_ms);
  if (meta->hold_reason.find(kDynamicMarker) != std::string::npos) {
    finish_dynamic(id, ctx, v, timing);
    return finished();
  }
  if (v.disposition == pipeline::Disposition::quarantine) {
    queue_.note(id, "attachments.hold_done", timing + " outcome=quarantined");
    queue_.release_to_quarantine(id, v.category.empty() ? v.filter : v.category, v.filter + ": " + v.reason);
  } else if (v.disposition == pipeline::Disposition::accept) {
    queue_.note(id, "attachments.hold_done", timing + " outcome=released");
    queue_.release_after(id, "attachments: analysis finished (" + timing + "), released for delivery");
  } else {
    queue_.note(id, "attachments.error", "unexpected verdict after analysis; the message stays held: " + v.reason);
  }
  log::info("attachments.hold_done", {{"id", id}, {"analysis_ms", analysis_ms}, {"waited_ms", waited_ms},
                                      {"outcome", v.disposition == pipeline::Disposition::quarantine ? "quarantined"
                                                                                                      : "released"}});
  finished();
}

void AttachmentHolds::finish_dynamic(const std::string& id, const pipeline::MessageContext& ctx,
                                     const pipeline::Verdict& v, const std::string& timing) {
  const bool clean = v.disposition == pipeline::Disposition::accept;
  if (!clean && v.disposition != pipeline::Disposition::quarantine) {
    queue_.note(id, "attachments.error", "unexpected verdict after analysis; the original stays held: " + v.reason);
    return;
  }
  if (!dynamic_) {
    queue_.note(id, "attachments.error", "no dynamic delivery store; the original stays held");
    return;
  }
  // The outcome first: the links must not say "being scanned" for a message gone from the queue.
  if (auto saved = dynamic_->save(id, {clean ? "clean" : "malicious", v.reason}, ctx.message); !saved) {
    log::error("attachments.dynamic_store_failed", {{"id", id}, {"error", saved.error().message}});
    queue_.note(id, "attachments.error", "cannot record the outcome (" + saved.error().message + "); the original stays held");
    return;
  }
  if (!clean) {
    queue_.note(id, "attachments.hold_done", timing + " outcome=quarantined (dynamic delivery original; links show it blocked)");
    queue_.release_to_quarantine(id, v.category.empty() ? v.filter : v.category, v.filter + ": " + v.reason);
    return;
  }
  const filters::AttachmentPolicy* policy = filter_.policy_for(ctx.envelope);
  if (policy && policy->deliver_original) {
    queue_.note(id, "attachments.hold_done", timing + " outcome=released (dynamic delivery: the original in full)");
    queue_.release_after(id, "attachments: analysis finished clean (" + timing + "), the original is delivered in full");
  } else {
    queue_.note(id, "attachments.hold_done", timing + " outcome=clean (dynamic delivery: attachments served by their links)");
    queue_.remove(id, "attachments: analysis finished clean; the original is kept for its attachment links, not delivered "
                      "(deliver_original = false)");
  }
}

pipeline::Verdict run_tail(const pipeline::FilterChain* tail, pipeline::MessageContext& ctx) {
  // A copy inherits the original's pending work (a rule's notice): the
  // original's front end does that; the copy does only what its tail adds.
  ctx.final_actions.clear();
  if (!tail || tail->size() == 0) return pipeline::Verdict::accept();
  // The chain wants shared ownership; `ctx` outlives the wait below.
  std::shared_ptr<pipeline::MessageContext> alias(std::shared_ptr<void>(), &ctx);
  std::promise<pipeline::Verdict> finished;
  auto future = finished.get_future();
  tail->run(alias, [&finished](pipeline::Verdict v) { finished.set_value(std::move(v)); });
  pipeline::Verdict v = future.get();
  pipeline::run_final_actions(ctx, v);  // the copy is queued whatever the tail said (quarantined at worst)
  return v;
}

namespace {

// A copy's own verdict (hold, quarantine) combined with what the tail said:
// the tail's quarantine wins over a hold; a refusal cannot reach the client
// any more (the recipients were accepted), so it quarantines the copy.
pipeline::Verdict combine(const pipeline::Verdict& own, pipeline::Verdict tail) {
  using D = pipeline::Disposition;
  if (own.disposition == D::quarantine || tail.disposition == D::accept || tail.disposition == D::hold) return own;
  if (tail.disposition != D::quarantine) {
    tail.reason = "refused after the copy was split off (" + tail.reason + ")";
    tail.disposition = D::quarantine;
  }
  return tail;
}

}  // namespace

std::string hold_dynamic_original(pipeline::MessageSink& sink, const pipeline::MessageContext& ctx,
                                  const std::string& original, std::string& error, const pipeline::FilterChain* tail) {
  // What the filters so far learned (SCL, the rules' disclaimer, the ARC result) goes with the original.
  auto copy = std::make_shared<pipeline::MessageContext>(ctx);
  copy->queue_id = sink.next_queue_id();
  copy->edits = {};
  copy->notes.clear();
  copy->message = "X-Mailmoat-Dynamic-Delivery: original; placeholder-copy=" + header_safe(ctx.queue_id) + "\r\n" + original;
  copy->notes.push_back({"attachments", "dynamic_original",
                         "original of " + ctx.queue_id + " (delivered with placeholders), held while analysis runs"});
  pipeline::Verdict hold;
  hold.disposition = pipeline::Disposition::hold;
  const pipeline::Verdict v = combine(hold, run_tail(tail, *copy));
  pipeline::apply_edits(copy->message, copy->edits);
  copy->edits = {};
  pipeline::Submission submission;
  submission.context = copy;
  if (v.disposition == pipeline::Disposition::quarantine) {
    submission.quarantine_reason = v.category.empty() ? v.filter : v.category;
    submission.quarantine_policy = v.filter + ": " + v.reason;
  } else {
    submission.hold = true;
    submission.hold_reason = "attachments: " + std::string(filters::kPendingReason) + " (" +
                             std::string(kDynamicMarker) + " original of " + ctx.queue_id + ")";
  }
  std::promise<util::Result<void>> queued;
  auto future = queued.get_future();
  sink.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  if (auto r = future.get(); !r) {
    error = r.error().message;
    return {};
  }
  return copy->queue_id;
}

std::string queue_split_copy(pipeline::MessageSink& sink, const pipeline::MessageContext& copy,
                             const pipeline::Verdict& own, const pipeline::FilterChain* tail) {
  pipeline::Submission submission;
  auto ctx = std::make_shared<pipeline::MessageContext>(copy);
  const pipeline::Verdict verdict = combine(own, run_tail(tail, *ctx));
  pipeline::apply_edits(ctx->message, ctx->edits);
  ctx->edits.headers.clear();
  ctx->edits.body.reset();
  switch (verdict.disposition) {
    case pipeline::Disposition::accept: break;
    case pipeline::Disposition::hold:
      submission.hold = true;
      submission.hold_reason = verdict.filter + ": " + verdict.reason;
      break;
    case pipeline::Disposition::quarantine:
      submission.quarantine_reason = verdict.category.empty() ? verdict.filter : verdict.category;
      submission.quarantine_policy = verdict.filter + ": " + verdict.reason;
      break;
    default: return "unexpected verdict for a copy: " + verdict.reason;
  }
  submission.context = ctx;
  std::promise<util::Result<void>> queued;
  auto future = queued.get_future();
  sink.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  auto r = future.get();
  return r ? std::string() : r.error().message;
}

std::string monitor_copy_message(const std::string& original, const std::string& queue_id, const std::string& from,
                                 const std::string& to, const std::string& reason, std::int64_t unix_now) {
  const std::string boundary = "=_mailmoat_copy_" + random_token();
  std::string subject = header_safe(pipeline::header_value(original, "Subject"));
  std::string out;
  out += "From: mailmoat Safe Attachments <" + from + ">\r\n";
  out += "To: <" + to + ">\r\n";
  out += "Subject: [Safe Attachments monitor] " + subject + "\r\n";
  out += "Date: " + util::rfc5322_date(unix_now) + "\r\n";
  out += "Message-ID: <" + random_token() + "." + queue_id + "@mailmoat>\r\n";
  out += "X-Mailmoat-Monitor-Copy: " + header_safe(queue_id) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  out += "A Safe Attachments monitor policy delivered message " + queue_id + " to its recipients,\r\n";
  out += "but found a malicious attachment:\r\n\r\n  " + header_safe(reason) + "\r\n\r\n";
  out += "The original message is attached.\r\n";
  out += "--" + boundary + "\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n";
  out += original;
  if (!original.ends_with("\r\n")) out += "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string queue_copy(pipeline::MessageSink& sink, const std::string& from, const std::string& to, std::string message,
                       const std::string& note) {
  auto ctx = std::make_shared<pipeline::MessageContext>();
  ctx->queue_id = sink.next_queue_id();
  ctx->connection.role = "local";
  ctx->connection.listener = "attachments";
  ctx->connection.client_address = "127.0.0.1";
  ctx->envelope.sender = from;
  ctx->envelope.body_type = "8BITMIME";
  ctx->envelope.recipients.push_back({to, "", ""});
  ctx->message = std::move(message);
  ctx->notes.push_back({"attachments", "monitor_copy", note});
  pipeline::Submission submission;
  submission.context = ctx;
  std::promise<util::Result<void>> queued;
  auto future = queued.get_future();
  sink.submit(std::move(submission), [&queued](util::Result<void> r) { queued.set_value(std::move(r)); });
  auto r = future.get();
  return r ? std::string() : r.error().message;
}

}  // namespace mailmoat::app

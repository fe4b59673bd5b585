#include "app/trace_wiring.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>

#include "log/log.h"
#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

store::Micros now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

std::string json_detail(std::initializer_list<std::pair<const char*, std::string>> fields) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : fields)
    if (!v.empty()) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

GatewayTrace::GatewayTrace(store::TraceRecorder& recorder, std::vector<std::string> local_domains)
    : recorder_(recorder), local_domains_(std::move(local_domains)) {}

store::Direction GatewayTrace::direction(const std::string& role, const std::string& sender) const {
  if (role == "inbound") return store::Direction::inbound;
  std::string d = domain_of(sender);
  for (const auto& l : local_domains_)
    if (l == d) return store::Direction::internal;
  return store::Direction::outbound;
}

void GatewayTrace::record_notes(const std::string& id, store::Micros at, const std::vector<pipeline::TraceNote>& notes) {
  for (const auto& n : notes) {
    store::TraceEvent note;
    note.trace_id = id;
    note.at = at;
    note.type = n.filter == "auth" ? store::EventType::authentication : store::EventType::note;
    note.detail = json_detail({{"filter", n.filter}, {"event", n.event}, {"detail", n.detail}});
    recorder_.record(note);
  }
}

void GatewayTrace::on_queue_event(const queue::QueueEvent& e) {
  store::TraceEvent ev;
  ev.trace_id = e.queue_id;
  ev.at = now_micros();
  ev.recipient = e.recipient;
  if ((e.type == "queued" || e.type == "held") && e.message) {
    const auto& m = *e.message;
    store::MessageInfo info;
    info.sender = m.envelope.sender;
    for (const auto& r : m.recipients) info.recipients.push_back(r.address);
    info.subject = m.subject;
    info.message_id = m.message_id;
    info.client_ip = m.client_address;
    info.direction = m.is_dsn ? store::Direction::outbound : direction(m.role, m.envelope.sender);
    info.size = static_cast<std::int64_t>(m.size);
    ev.type = store::EventType::received;
    ev.message = info;
    ev.detail = json_detail({{"client_ip", m.client_address}, {"helo", m.helo}, {"listener", m.listener},
                             {"note", e.detail}});
    recorder_.record(ev);
    record_notes(e.queue_id, ev.at, e.notes);
    if (e.type == "held") {
      store::TraceEvent held;
      held.trace_id = e.queue_id;
      held.at = ev.at;
      held.type = store::EventType::quarantined;
      held.status = store::TraceStatus::quarantined;
      held.detail = json_detail({{"reason", e.detail}});
      recorder_.record(held);
    }
    return;
  }
  ev.detail = json_detail({{"detail", e.detail}});
  if (e.type == "delivered" || e.type == "deferred" || e.type == "failed" || e.type == "expired") {
    ev.type = store::EventType::delivery_attempt;
    ev.status = e.type == "delivered"  ? store::TraceStatus::delivered
                : e.type == "deferred" ? store::TraceStatus::deferred
                                       : store::TraceStatus::failed;
  } else if (e.type == "bounced") {
    ev.type = store::EventType::dsn_sent;
    ev.recipient.clear();
  } else if (e.type == "quarantined") {
    ev.type = store::EventType::quarantined;
    ev.status = store::TraceStatus::quarantined;
    ev.detail = json_detail({{"stored", e.detail}});
  } else if (e.type == "released") {
    ev.type = store::EventType::released;
    ev.status = store::TraceStatus::received;
  } else if (e.type == "deleted") {
    ev.type = store::EventType::deleted;
    ev.status = store::TraceStatus::deleted;
  } else {
    ev.type = store::EventType::note;
    ev.detail = json_detail({{"event", e.type}, {"detail", e.detail}});
  }
  recorder_.record(ev);
}

void GatewayTrace::on_refused(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict,
                              const smtp::Reply& reply) {
  store::TraceEvent ev;
  ev.trace_id = ctx.queue_id;
  ev.at = now_micros();
  ev.type = store::EventType::received;
  store::MessageInfo info;
  info.sender = ctx.envelope.sender;
  for (const auto& r : ctx.envelope.recipients) info.recipients.push_back(r.address);
  info.client_ip = ctx.connection.client_address;
  info.direction = direction(ctx.connection.role, ctx.envelope.sender);
  info.size = static_cast<std::int64_t>(ctx.message.size());
  ev.message = info;
  ev.detail = json_detail({{"client_ip", ctx.connection.client_address}, {"helo", ctx.connection.helo},
                           {"listener", ctx.connection.listener}});
  recorder_.record(ev);
  record_notes(ctx.queue_id, ev.at, ctx.notes);
  store::TraceEvent decision;
  decision.trace_id = ctx.queue_id;
  decision.at = ev.at;
  decision.type = store::EventType::status_changed;
  decision.status = verdict.disposition == pipeline::Disposition::discard ? store::TraceStatus::deleted
                                                                          : store::TraceStatus::rejected;
  decision.detail = json_detail({{"filter", verdict.filter}, {"reason", verdict.reason}, {"reply", reply.summary()}});
  recorder_.record(decision);
}

void GatewayTrace::on_milter_message(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict,
                                     const std::string& summary) {
  using pipeline::Disposition;
  store::TraceEvent ev;
  ev.trace_id = ctx.queue_id;
  ev.at = now_micros();
  ev.type = store::EventType::received;
  store::MessageInfo info;
  info.sender = ctx.envelope.sender;
  for (const auto& r : ctx.envelope.recipients) info.recipients.push_back(r.address);
  info.subject = pipeline::header_value(ctx.message, "Subject");
  info.message_id = pipeline::header_value(ctx.message, "Message-ID");
  info.client_ip = ctx.connection.client_address;
  info.direction = direction(ctx.connection.role, ctx.envelope.sender);
  info.size = static_cast<std::int64_t>(ctx.message.size());
  ev.message = info;
  ev.detail = json_detail({{"client_ip", ctx.connection.client_address}, {"helo", ctx.connection.helo},
                           {"listener", ctx.connection.listener}, {"front_end", "milter"},
                           {"mta_queue_id", ctx.mta_queue_id}});
  recorder_.record(ev);
  record_notes(ctx.queue_id, ev.at, ctx.notes);
  store::TraceEvent decision;
  decision.trace_id = ctx.queue_id;
  decision.at = ev.at;
  switch (verdict.disposition) {
    case Disposition::accept:
      decision.type = store::EventType::note;
      decision.detail = json_detail({{"event", "returned_to_mta"}, {"result", summary},
                                     {"mta_queue_id", ctx.mta_queue_id}, {"reason", verdict.reason}});
      break;
    case Disposition::quarantine:
    case Disposition::hold:
      decision.type = store::EventType::quarantined;
      decision.status = store::TraceStatus::quarantined;
      decision.detail = json_detail({{"filter", verdict.filter}, {"reason", verdict.reason},
                                     {"held_in", "MTA hold queue"}, {"mta_queue_id", ctx.mta_queue_id}});
      break;
    default:
      decision.type = store::EventType::status_changed;
      decision.status = verdict.disposition == Disposition::discard ? store::TraceStatus::deleted
                                                                    : store::TraceStatus::rejected;
      decision.detail = json_detail({{"filter", verdict.filter}, {"reason", verdict.reason}, {"reply", summary},
                                     {"mta_queue_id", ctx.mta_queue_id}});
  }
  recorder_.record(decision);
}

void DmarcAggregateRecorder::record(const auth::dmarc::AggregateRecord& r) {
  namespace dmarc = auth::dmarc;
  store::DmarcRow row;
  row.day = std::chrono::duration_cast<std::chrono::hours>(std::chrono::system_clock::now().time_since_epoch()).count() / 24;
  row.source_ip = r.source_ip;
  row.header_from = r.header_from;
  row.envelope_from = r.spf.domain;
  row.spf_domain = r.spf.domain;
  row.spf_result = std::string(dmarc::to_string(r.spf.result));
  if (!r.dkim.empty()) {
    row.dkim_domain = r.dkim.front().domain;
    row.dkim_selector = r.dkim.front().selector;
    row.dkim_result = std::string(dmarc::to_string(r.dkim.front().result));
  }
  row.disposition = r.disposition == dmarc::Policy::reject       ? "reject"
                    : r.disposition == dmarc::Policy::quarantine ? "quarantine"
                                                                 : "none";
  bool spf_pass = r.spf.result == dmarc::AuthOutcome::pass;
  bool dkim_pass = false;
  for (const auto& d : r.dkim) dkim_pass |= d.result == dmarc::AuthOutcome::pass;
  row.dmarc_spf = spf_pass ? "pass" : "fail";
  row.dmarc_dkim = dkim_pass ? "pass" : "fail";
  row.count = 1;
  // The row's identity as the store sees it (it compares header_from without case).
  std::string key = std::to_string(row.day) + '\0' + util::to_lower(row.header_from);
  for (const std::string* f : {&row.source_ip, &row.envelope_from, &row.spf_domain, &row.spf_result, &row.dkim_domain,
                               &row.dkim_selector, &row.dkim_result, &row.disposition, &row.dmarc_dkim, &row.dmarc_spf}) {
    key += '\0';
    key += *f;
  }
  std::lock_guard lock(mu_);
  auto [it, inserted] = pending_.try_emplace(std::move(key), row);
  if (!inserted) ++it->second.count;
  if (flush_posted_ || stopping_) return;
  flush_posted_ = true;
  boost::asio::post(pool_, [this] { flush_after_linger(); });
}

// On the pool's thread: let the batch gather for linger_ (or until the
// recorder stops), then write it.
void DmarcAggregateRecorder::flush_after_linger() {
  std::map<std::string, store::DmarcRow> rows;
  {
    std::unique_lock lock(mu_);
    stop_cv_.wait_for(lock, linger_, [this] { return stopping_; });
    rows.swap(pending_);
    flush_posted_ = false;
  }
  write(rows);
}

void DmarcAggregateRecorder::write(const std::map<std::string, store::DmarcRow>& rows) {
  for (const auto& [key, row] : rows)
    if (auto ok = store_.add(row); !ok)
      log::warn("dmarc.aggregate_write_failed", {{"error", ok.error().message}, {"messages", row.count}});
}

DmarcAggregateRecorder::~DmarcAggregateRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  pool_.join();
  write(pending_);  // what came after the last flush
}

}  // namespace mailmoat::app

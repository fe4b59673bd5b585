#include "store/sql/trace_write.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/sql/pattern.h"
#include "util/strings.h"

namespace mailmoat::store::sql {
namespace {

constexpr std::size_t kRecordsPerInsert = 200;  // 16 values each
constexpr std::size_t kEventsPerInsert = 200;   // 6 values each
constexpr std::size_t kUpdatesPerStatement = 300;

struct RecordRow {
  const TraceEvent* event;
  const std::string* recipient;
};

struct StatusChange {
  std::string trace_id, recipient, status;
  Micros at = 0;
};

// Runs "<head> (?,...),(?,...) <tail>" over `rows` in chunks of `per`.
template <typename Row, typename Bind>
util::Result<void> in_chunks(Connection& c, const std::vector<Row>& rows, std::size_t per, std::string_view head,
                             std::string_view tuple, std::string_view tail, Bind bind) {
  for (std::size_t i = 0; i < rows.size(); i += per) {
    std::size_t n = std::min(per, rows.size() - i);
    std::string sql(head);
    std::vector<Value> p;
    for (std::size_t k = 0; k < n; ++k) {
      sql += k ? ", " : "";
      sql += tuple;
      bind(rows[i + k], p);
    }
    sql += tail;
    if (auto r = c.exec(sql, p); !r) return std::unexpected(r.error());
  }
  return {};
}

// One row per (message, recipient); a repeated pair keeps its last event
// (PostgreSQL refuses to upsert one row twice in a statement).
std::vector<RecordRow> records_of(std::span<const TraceEvent> events) {
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> index;
  std::vector<RecordRow> rows;
  for (const auto& e : events) {
    if (!e.message) continue;
    for (const auto& r : e.message->recipients) {
      auto [it, fresh] = index.try_emplace({e.trace_id, r}, rows.size());
      if (fresh) rows.push_back({&e, &r});
      else rows[it->second] = {&e, &r};
    }
  }
  return rows;
}

// The final effect of the batch's status changes: per message, the last change
// to every recipient, then later changes to single recipients.
void reduce_status(std::span<const TraceEvent> events, std::vector<StatusChange>& all,
                   std::vector<StatusChange>& single) {
  struct PerMessage {
    std::optional<StatusChange> all;
    std::map<std::string, StatusChange> single;
  };
  std::map<std::string, PerMessage> by_message;
  std::vector<std::string> order;
  for (const auto& e : events) {
    if (e.message || !e.status) continue;
    auto [it, fresh] = by_message.try_emplace(e.trace_id);
    if (fresh) order.push_back(e.trace_id);
    StatusChange ch{e.trace_id, e.recipient, std::string(to_string(*e.status)), e.at};
    if (e.recipient.empty()) {
      it->second.all = std::move(ch);
      it->second.single.clear();
    } else {
      it->second.single[e.recipient] = std::move(ch);
    }
  }
  for (const auto& id : order) {
    auto& m = by_message[id];
    if (m.all) all.push_back(std::move(*m.all));
    for (auto& [r, ch] : m.single) single.push_back(std::move(ch));
  }
}

util::Result<void> upsert_records(Connection& c, const std::vector<RecordRow>& rows) {
  return in_chunks(
      c, rows, kRecordsPerInsert,
      "INSERT INTO trace_records (trace_id, recipient, recipient_lc, recipient_rev, sender, sender_lc, sender_rev, "
      "subject, subject_lc, message_id, client_ip, direction, status, size, received_at, updated_at) VALUES ",
      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      " ON CONFLICT (trace_id, recipient) DO UPDATE SET sender = excluded.sender, sender_lc = excluded.sender_lc, "
      "sender_rev = excluded.sender_rev, subject = excluded.subject, subject_lc = excluded.subject_lc, "
      "message_id = excluded.message_id, client_ip = excluded.client_ip, direction = excluded.direction, "
      "size = excluded.size, received_at = excluded.received_at",
      [](const RecordRow& row, std::vector<Value>& p) {
        const TraceEvent& e = *row.event;
        const MessageInfo& m = *e.message;
        std::string rcpt_lc = util::to_lower(*row.recipient), sender_lc = util::to_lower(m.sender);
        std::string rcpt_rev = reversed(rcpt_lc), sender_rev = reversed(sender_lc);
        p.emplace_back(e.trace_id);
        p.emplace_back(*row.recipient);
        p.emplace_back(std::move(rcpt_lc));
        p.emplace_back(std::move(rcpt_rev));
        p.emplace_back(m.sender);
        p.emplace_back(std::move(sender_lc));
        p.emplace_back(std::move(sender_rev));
        p.emplace_back(m.subject);
        p.emplace_back(util::to_lower(m.subject));
        p.emplace_back(m.message_id);
        p.emplace_back(m.client_ip);
        p.emplace_back(std::string(to_string(m.direction)));
        p.emplace_back(std::string(to_string(e.status.value_or(TraceStatus::received))));
        p.emplace_back(m.size);
        p.emplace_back(e.at);
        p.emplace_back(e.at);
      });
}

util::Result<void> update_status(Connection& c, const std::vector<StatusChange>& all,
                                 const std::vector<StatusChange>& single) {
  auto r = in_chunks(c, all, kUpdatesPerStatement, "WITH v (t, s, a) AS (VALUES ", "(?, ?, ?)",
                     ") UPDATE trace_records SET status = v.s, updated_at = v.a FROM v "
                     "WHERE trace_records.trace_id = v.t",
                     [](const StatusChange& ch, std::vector<Value>& p) {
                       p.emplace_back(ch.trace_id);
                       p.emplace_back(ch.status);
                       p.emplace_back(ch.at);
                     });
  if (!r) return r;
  return in_chunks(c, single, kUpdatesPerStatement, "WITH v (t, r, s, a) AS (VALUES ", "(?, ?, ?, ?)",
                   ") UPDATE trace_records SET status = v.s, updated_at = v.a FROM v "
                   "WHERE trace_records.trace_id = v.t AND trace_records.recipient = v.r",
                   [](const StatusChange& ch, std::vector<Value>& p) {
                     p.emplace_back(ch.trace_id);
                     p.emplace_back(ch.recipient);
                     p.emplace_back(ch.status);
                     p.emplace_back(ch.at);
                   });
}

util::Result<void> insert_events(Connection& c, std::span<const TraceEvent> events) {
  std::vector<const TraceEvent*> rows;
  rows.reserve(events.size());
  for (const auto& e : events) rows.push_back(&e);
  return in_chunks(c, rows, kEventsPerInsert,
                   "INSERT INTO trace_events (trace_id, at, type, recipient, status, detail) VALUES ",
                   "(?, ?, ?, ?, ?, ?)", "", [](const TraceEvent* e, std::vector<Value>& p) {
                     p.emplace_back(e->trace_id);
                     p.emplace_back(e->at);
                     p.emplace_back(std::string(to_string(e->type)));
                     p.emplace_back(e->recipient);
                     if (e->status) p.emplace_back(std::string(to_string(*e->status)));
                     else p.emplace_back(nullptr);
                     p.emplace_back(e->detail);
                   });
}

}  // namespace

util::Result<void> write_trace_batch(Connection& c, std::span<const TraceEvent> events) {
  if (auto r = upsert_records(c, records_of(events)); !r) return r;
  std::vector<StatusChange> all, single;
  reduce_status(events, all, single);
  if (auto r = update_status(c, all, single); !r) return r;
  return insert_events(c, events);
}

}  // namespace mailmoat::store::sql

// TraceStore over SQL. One row per (message, recipient) in trace_records with
// lower-cased and reversed copies of the addresses for index-served wildcard
// search; events in trace_events (writes: trace_write.cpp).
#include <algorithm>

#include "store/sql/pattern.h"
#include "store/sql/shared.h"
#include "store/sql/trace_write.h"
#include "util/strings.h"

namespace mailmoat::store::sql {
namespace {

constexpr const char* kRecordColumns =
    "trace_id, recipient, sender, subject, message_id, client_ip, direction, status, size, received_at, "
    "updated_at, id";

TraceRecord record_from(const Row& r) {
  TraceRecord t;
  t.trace_id = r.text(0);
  t.recipient = r.text(1);
  t.sender = r.text(2);
  t.subject = r.text(3);
  t.message_id = r.text(4);
  t.client_ip = r.text(5);
  t.direction = parse_direction(r.text(6)).value_or(Direction::inbound);
  t.status = parse_trace_status(r.text(7)).value_or(TraceStatus::received);
  t.size = r.integer(8);
  t.received_at = r.integer(9);
  t.updated_at = r.integer(10);
  return t;
}

class SqlTraceStore final : public TraceStore {
 public:
  explicit SqlTraceStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<void> append(std::span<const TraceEvent> events) override {
    std::lock_guard lock(s_->mu);
    Connection& c = *s_->conn;
    return in_transaction(c, [&]() -> util::Result<void> {
      return write_trace_batch(c, events);
    });
  }

  util::Result<Page<TraceRecord>> search(const TraceQuery& q) override {
    std::string where = "1=1";
    std::vector<Value> p;
    if (q.sender) add_wildcard_match(where, p, "sender_lc", "sender_rev", *q.sender);
    if (q.recipient) add_wildcard_match(where, p, "recipient_lc", "recipient_rev", *q.recipient);
    if (q.since) where += " AND received_at >= ?", p.emplace_back(*q.since);
    if (q.until) where += " AND received_at < ?", p.emplace_back(*q.until);
    if (q.status) where += " AND status = ?", p.emplace_back(std::string(to_string(*q.status)));
    if (q.message_id) where += " AND message_id = ?", p.emplace_back(*q.message_id);
    if (q.client_ip) where += " AND client_ip = ?", p.emplace_back(*q.client_ip);
    if (q.direction) where += " AND direction = ?", p.emplace_back(std::string(to_string(*q.direction)));
    for (const auto& w : q.subject_words) {
      where += " AND subject_lc LIKE ? ESCAPE '\\'";
      p.emplace_back("%" + escape_like(util::to_lower(w)) + "%");
    }
    if (!q.cursor.empty()) {
      auto cur = parse_cursor(q.cursor);
      if (!cur) return std::unexpected(cur.error());
      where += " AND (received_at < ? OR (received_at = ? AND id < ?))";
      p.emplace_back(cur->first);
      p.emplace_back(cur->first);
      p.emplace_back(cur->second);
    }
    std::size_t limit = std::clamp<std::size_t>(q.limit, 1, 1000);
    p.emplace_back(static_cast<std::int64_t>(limit + 1));
    std::string sql = std::string("SELECT ") + kRecordColumns + " FROM trace_records WHERE " + where +
                      " ORDER BY received_at DESC, id DESC LIMIT ?";
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(sql, p);
    if (!rows) return std::unexpected(rows.error());
    Page<TraceRecord> page;
    for (std::size_t i = 0; i < rows->size() && i < limit; ++i) page.items.push_back(record_from((*rows)[i]));
    if (rows->size() > limit) {
      const Row& last = (*rows)[limit - 1];
      page.next_cursor = make_cursor(last.integer(9), last.integer(11));
    }
    return page;
  }

  util::Result<TraceDetail> detail(const std::string& trace_id) override {
    std::lock_guard lock(s_->mu);
    TraceDetail d;
    auto recs = s_->conn->query(std::string("SELECT ") + kRecordColumns +
                                    " FROM trace_records WHERE trace_id = ? ORDER BY id",
                                {Value{trace_id}});
    if (!recs) return std::unexpected(recs.error());
    for (const auto& r : *recs) d.records.push_back(record_from(r));
    auto evs = s_->conn->query(
        "SELECT trace_id, at, type, recipient, status, detail FROM trace_events WHERE trace_id = ? ORDER BY id",
        {Value{trace_id}});
    if (!evs) return std::unexpected(evs.error());
    for (const auto& r : *evs) {
      StoredEvent e;
      e.trace_id = r.text(0);
      e.at = r.integer(1);
      e.type = parse_event_type(r.text(2)).value_or(EventType::note);
      e.recipient = r.text(3);
      if (!r.is_null(4)) e.status = parse_trace_status(r.text(4));
      e.detail = r.text(5);
      d.events.push_back(std::move(e));
    }
    return d;
  }

  util::Result<std::vector<StoredEvent>> events(const EventQuery& q) override {
    std::lock_guard lock(s_->mu);
    std::string sql =
        "SELECT trace_id, at, type, recipient, status, detail FROM trace_events WHERE at >= ? AND at < ? AND type = ?";
    std::vector<Value> args{Value{q.since}, Value{q.until}, Value{std::string(to_string(q.type))}};
    if (!q.filter.empty()) {
      sql += " AND detail LIKE ?";
      args.push_back(Value{"%\"filter\":\"" + q.filter + "\"%"});
    }
    sql += " ORDER BY at DESC, id DESC LIMIT ?";
    args.push_back(Value{static_cast<std::int64_t>(std::clamp<std::size_t>(q.limit, 1, 5000))});
    auto rows = s_->conn->query(sql, args);
    if (!rows) return std::unexpected(rows.error());
    std::vector<StoredEvent> out;
    for (const auto& r : *rows) {
      StoredEvent e;
      e.trace_id = r.text(0);
      e.at = r.integer(1);
      e.type = parse_event_type(r.text(2)).value_or(EventType::note);
      e.recipient = r.text(3);
      if (!r.is_null(4)) e.status = parse_trace_status(r.text(4));
      e.detail = r.text(5);
      out.push_back(std::move(e));
    }
    return out;
  }

  util::Result<std::vector<HourlyCount>> hourly_counts(Micros since, Micros until) override {
    constexpr std::int64_t kHour = 3'600'000'000;
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(
        "SELECT received_at / ? AS hour, direction, status, COUNT(*) FROM trace_records "
        "WHERE received_at >= ? AND received_at < ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        {Value{kHour}, Value{since}, Value{until}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<HourlyCount> out;
    for (const auto& r : *rows)
      out.push_back(HourlyCount{r.integer(0) * kHour, parse_direction(r.text(1)).value_or(Direction::inbound),
                                parse_trace_status(r.text(2)).value_or(TraceStatus::received), r.integer(3)});
    return out;
  }

  util::Result<std::int64_t> purge(Micros before) override {
    std::lock_guard lock(s_->mu);
    Connection& c = *s_->conn;
    return in_transaction(c, [&]() -> util::Result<std::int64_t> {
      auto ev = c.exec(
          "DELETE FROM trace_events WHERE at < ? OR trace_id IN "
          "(SELECT trace_id FROM trace_records WHERE received_at < ?)",
          {Value{before}, Value{before}});
      if (!ev) return ev;
      return c.exec("DELETE FROM trace_records WHERE received_at < ?", {Value{before}});
    });
  }

 private:
  std::shared_ptr<Shared> s_;
};

}  // namespace

std::unique_ptr<TraceStore> make_trace_store(std::shared_ptr<Shared> s) {
  return std::make_unique<SqlTraceStore>(std::move(s));
}

}  // namespace mailmoat::store::sql

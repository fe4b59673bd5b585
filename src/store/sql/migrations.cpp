#include "store/sql/migrations.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace mailmoat::store::sql {
namespace {

struct Migration {
  const char* sqlite;
  const char* postgresql;
};

// Version 1: message trace, quarantine, audit log, settings. On PostgreSQL
// trace_records leaves 20 % of each page free so the status updates that follow
// every message are HOT updates, which touch none of its eight indexes.
constexpr const char* kV1Sqlite = R"sql(
CREATE TABLE trace_records (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL, recipient TEXT NOT NULL, recipient_lc TEXT NOT NULL, recipient_rev TEXT NOT NULL,
  sender TEXT NOT NULL, sender_lc TEXT NOT NULL, sender_rev TEXT NOT NULL,
  subject TEXT NOT NULL, subject_lc TEXT NOT NULL, message_id TEXT NOT NULL, client_ip TEXT NOT NULL,
  direction TEXT NOT NULL, status TEXT NOT NULL, size INTEGER NOT NULL,
  received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  UNIQUE (trace_id, recipient));
CREATE INDEX trace_records_time ON trace_records (received_at, id);
CREATE INDEX trace_records_sender ON trace_records (sender_lc, received_at, id);
CREATE INDEX trace_records_sender_rev ON trace_records (sender_rev, received_at, id);
CREATE INDEX trace_records_recipient ON trace_records (recipient_lc, received_at, id);
CREATE INDEX trace_records_recipient_rev ON trace_records (recipient_rev, received_at, id);
CREATE INDEX trace_records_message_id ON trace_records (message_id);
CREATE INDEX trace_records_client_ip ON trace_records (client_ip, received_at, id);
CREATE TABLE trace_events (
  id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  recipient TEXT NOT NULL, status TEXT, detail TEXT NOT NULL);
CREATE INDEX trace_events_trace ON trace_events (trace_id, id);
CREATE INDEX trace_events_at ON trace_events (at);
CREATE TABLE quarantine (
  id INTEGER PRIMARY KEY, queue_id TEXT NOT NULL, reason TEXT NOT NULL, policy TEXT NOT NULL,
  sender TEXT NOT NULL, sender_lc TEXT NOT NULL, sender_rev TEXT NOT NULL, recipients TEXT NOT NULL,
  subject TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  raw BLOB, spool_path TEXT NOT NULL, state TEXT NOT NULL, state_changed_at INTEGER NOT NULL,
  state_changed_by TEXT NOT NULL, released_to TEXT NOT NULL);
CREATE INDEX quarantine_created ON quarantine (created_at, id);
CREATE INDEX quarantine_expires ON quarantine (expires_at);
CREATE INDEX quarantine_sender ON quarantine (sender_lc);
CREATE TABLE quarantine_recipients (
  item_id INTEGER NOT NULL REFERENCES quarantine (id) ON DELETE CASCADE,
  recipient_lc TEXT NOT NULL, recipient_rev TEXT NOT NULL);
CREATE INDEX quarantine_recipients_item ON quarantine_recipients (item_id);
CREATE INDEX quarantine_recipients_lc ON quarantine_recipients (recipient_lc);
CREATE INDEX quarantine_recipients_rev ON quarantine_recipients (recipient_rev);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

constexpr const char* kV1Postgres = R"sql(
CREATE TABLE trace_records (
  id BIGSERIAL PRIMARY KEY,
  trace_id TEXT COLLATE "C" NOT NULL, recipient TEXT COLLATE "C" NOT NULL,
  recipient_lc TEXT COLLATE "C" NOT NULL, recipient_rev TEXT COLLATE "C" NOT NULL,
  sender TEXT COLLATE "C" NOT NULL, sender_lc TEXT COLLATE "C" NOT NULL, sender_rev TEXT COLLATE "C" NOT NULL,
  subject TEXT NOT NULL, subject_lc TEXT COLLATE "C" NOT NULL, message_id TEXT COLLATE "C" NOT NULL,
  client_ip TEXT COLLATE "C" NOT NULL, direction TEXT NOT NULL, status TEXT NOT NULL, size BIGINT NOT NULL,
  received_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  UNIQUE (trace_id, recipient)) WITH (fillfactor = 80);
CREATE INDEX trace_records_time ON trace_records (received_at, id);
CREATE INDEX trace_records_sender ON trace_records (sender_lc, received_at, id);
CREATE INDEX trace_records_sender_rev ON trace_records (sender_rev, received_at, id);
CREATE INDEX trace_records_recipient ON trace_records (recipient_lc, received_at, id);
CREATE INDEX trace_records_recipient_rev ON trace_records (recipient_rev, received_at, id);
CREATE INDEX trace_records_message_id ON trace_records (message_id);
CREATE INDEX trace_records_client_ip ON trace_records (client_ip, received_at, id);
CREATE TABLE trace_events (
  id BIGSERIAL PRIMARY KEY, trace_id TEXT COLLATE "C" NOT NULL, at BIGINT NOT NULL, type TEXT NOT NULL,
  recipient TEXT NOT NULL, status TEXT, detail TEXT NOT NULL);
CREATE INDEX trace_events_trace ON trace_events (trace_id, id);
CREATE INDEX trace_events_at ON trace_events (at);
CREATE TABLE quarantine (
  id BIGSERIAL PRIMARY KEY, queue_id TEXT NOT NULL, reason TEXT NOT NULL, policy TEXT NOT NULL,
  sender TEXT NOT NULL, sender_lc TEXT COLLATE "C" NOT NULL, sender_rev TEXT COLLATE "C" NOT NULL,
  recipients TEXT NOT NULL, subject TEXT NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL, raw BYTEA, spool_path TEXT NOT NULL, state TEXT NOT NULL,
  state_changed_at BIGINT NOT NULL, state_changed_by TEXT NOT NULL, released_to TEXT NOT NULL);
CREATE INDEX quarantine_created ON quarantine (created_at, id);
CREATE INDEX quarantine_expires ON quarantine (expires_at);
CREATE INDEX quarantine_sender ON quarantine (sender_lc);
CREATE TABLE quarantine_recipients (
  item_id BIGINT NOT NULL REFERENCES quarantine (id) ON DELETE CASCADE,
  recipient_lc TEXT COLLATE "C" NOT NULL, recipient_rev TEXT COLLATE "C" NOT NULL);
CREATE INDEX quarantine_recipients_item ON quarantine_recipients (item_id);
CREATE INDEX quarantine_recipients_lc ON quarantine_recipients (recipient_lc);
CREATE INDEX quarantine_recipients_rev ON quarantine_recipients (recipient_rev);
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Version 2: click trace and DMARC aggregate report data.
constexpr const char* kV2Sqlite = R"sql(
CREATE TABLE clicks (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, recipient TEXT NOT NULL, recipient_lc TEXT NOT NULL,
  recipient_rev TEXT NOT NULL, message_id TEXT NOT NULL, url TEXT NOT NULL, url_lc TEXT NOT NULL,
  verdict TEXT NOT NULL, reasons TEXT NOT NULL, action TEXT NOT NULL, client_ip TEXT NOT NULL,
  user_agent TEXT NOT NULL);
CREATE INDEX clicks_at ON clicks (at);
CREATE INDEX clicks_recipient ON clicks (recipient_lc, id);
CREATE INDEX clicks_recipient_rev ON clicks (recipient_rev, id);
CREATE TABLE dmarc_rows (
  day INTEGER NOT NULL, source_ip TEXT NOT NULL, header_from TEXT NOT NULL, envelope_from TEXT NOT NULL,
  spf_domain TEXT NOT NULL, spf_result TEXT NOT NULL, dkim_domain TEXT NOT NULL,
  dkim_selector TEXT NOT NULL, dkim_result TEXT NOT NULL, disposition TEXT NOT NULL,
  dmarc_dkim TEXT NOT NULL, dmarc_spf TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (header_from, day, source_ip, envelope_from, spf_domain, spf_result, dkim_domain,
               dkim_selector, dkim_result, disposition, dmarc_dkim, dmarc_spf));
CREATE INDEX dmarc_rows_day ON dmarc_rows (day);
)sql";

constexpr const char* kV2Postgres = R"sql(
CREATE TABLE clicks (
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, recipient TEXT NOT NULL,
  recipient_lc TEXT COLLATE "C" NOT NULL, recipient_rev TEXT COLLATE "C" NOT NULL,
  message_id TEXT NOT NULL, url TEXT NOT NULL, url_lc TEXT COLLATE "C" NOT NULL,
  verdict TEXT NOT NULL, reasons TEXT NOT NULL, action TEXT NOT NULL, client_ip TEXT NOT NULL,
  user_agent TEXT NOT NULL);
CREATE INDEX clicks_at ON clicks (at);
CREATE INDEX clicks_recipient ON clicks (recipient_lc, id);
CREATE INDEX clicks_recipient_rev ON clicks (recipient_rev, id);
CREATE TABLE dmarc_rows (
  day BIGINT NOT NULL, source_ip TEXT NOT NULL, header_from TEXT COLLATE "C" NOT NULL,
  envelope_from TEXT NOT NULL, spf_domain TEXT NOT NULL, spf_result TEXT NOT NULL,
  dkim_domain TEXT NOT NULL, dkim_selector TEXT NOT NULL, dkim_result TEXT NOT NULL,
  disposition TEXT NOT NULL, dmarc_dkim TEXT NOT NULL, dmarc_spf TEXT NOT NULL, count BIGINT NOT NULL,
  PRIMARY KEY (header_from, day, source_ip, envelope_from, spf_domain, spf_result, dkim_domain,
               dkim_selector, dkim_result, disposition, dmarc_dkim, dmarc_spf));
CREATE INDEX dmarc_rows_day ON dmarc_rows (day);
)sql";

// Version 3: quarantined messages are stored zlib-compressed; older rows keep
// 'identity' and are read as they are.
constexpr const char* kV3 = "ALTER TABLE quarantine ADD COLUMN raw_encoding TEXT NOT NULL DEFAULT 'identity';";

// Version 4: TLS-RPT session results (RFC 8460), counted per day and policy domain.
constexpr const char* kV4Sqlite = R"sql(
CREATE TABLE tlsrpt_rows (
  day INTEGER NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,
  policy_string TEXT NOT NULL, mx_host TEXT NOT NULL, result_type TEXT NOT NULL,
  sending_ip TEXT NOT NULL, receiving_mx TEXT NOT NULL, receiving_ip TEXT NOT NULL,
  reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (policy_domain, day, policy_type, policy_string, mx_host, result_type, sending_ip,
               receiving_mx, receiving_ip, reason));
CREATE INDEX tlsrpt_rows_day ON tlsrpt_rows (day);
)sql";

constexpr const char* kV4Postgres = R"sql(
CREATE TABLE tlsrpt_rows (
  day BIGINT NOT NULL, policy_domain TEXT COLLATE "C" NOT NULL, policy_type TEXT NOT NULL,
  policy_string TEXT NOT NULL, mx_host TEXT NOT NULL, result_type TEXT NOT NULL,
  sending_ip TEXT NOT NULL, receiving_mx TEXT NOT NULL, receiving_ip TEXT NOT NULL,
  reason TEXT NOT NULL, count BIGINT NOT NULL,
  PRIMARY KEY (policy_domain, day, policy_type, policy_string, mx_host, result_type, sending_ip,
               receiving_mx, receiving_ip, reason));
CREATE INDEX tlsrpt_rows_day ON tlsrpt_rows (day);
)sql";

constexpr Migration kMigrations[] = {
    {kV1Sqlite, kV1Postgres},
    {kV2Sqlite, kV2Postgres},
    {kV3, kV3},
    {kV4Sqlite, kV4Postgres},
};

constexpr const char* kVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)";

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

util::Result<int> read_version(Connection& c) {
  auto rows = c.query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {});
  if (!rows) return std::unexpected(rows.error());
  return static_cast<int>(rows->at(0).integer(0));
}

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

util::Result<int> schema_version(Connection& c) {
  if (auto t = c.exec_script(kVersionTable); !t) return std::unexpected(t.error());
  return read_version(c);
}

util::Result<int> migrate(Connection& c, int target) {
  if (target < 0) target = latest_schema_version();
  if (target > latest_schema_version()) return util::fail("schema version " + std::to_string(target) + " is unknown");
  return in_transaction(c, [&]() -> util::Result<int> {
    // Two nodes starting at once against one PostgreSQL: the second waits here
    // and then sees the versions the first applied. (Concurrent CREATE TABLE IF
    // NOT EXISTS can fail in PostgreSQL, so even that happens under the lock.)
    if (c.dialect() == Dialect::postgresql) {
      if (auto l = c.query("SELECT pg_advisory_xact_lock(727170)", {}); !l) return std::unexpected(l.error());
    }
    if (auto t = c.exec_script(kVersionTable); !t) return std::unexpected(t.error());
    auto current = read_version(c);
    if (!current) return current;
    if (*current > latest_schema_version())
      return util::fail("database schema version " + std::to_string(*current) +
                        " is newer than this mailmoat (" + std::to_string(latest_schema_version()) + ")");
    for (int v = *current + 1; v <= target; ++v) {
      const Migration& m = kMigrations[v - 1];
      auto r = c.exec_script(c.dialect() == Dialect::sqlite ? m.sqlite : m.postgresql);
      if (!r) return util::fail("schema migration to version " + std::to_string(v) + ": " + r.error().message);
      auto ins = c.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                        {Value{std::int64_t{v}}, Value{now_micros()}});
      if (!ins) return std::unexpected(ins.error());
    }
    return std::max(*current, target);
  });
}

}  // namespace mailmoat::store::sql

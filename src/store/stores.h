// The store interfaces (issue 10) and the factory that opens a backend from
// `store.url`. Synchronous on purpose: they are called from the trace writer
// thread and from worker threads, never from the event loop. Every method is
// safe to call from several threads; a backend serialises on its connection.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "store/types.h"
#include "util/error.h"

namespace mailmoat::store {

// Events of one type across messages (console: authentication results,
// attachment verdicts). `filter`, when set, keeps only events whose detail
// names that filter ({"filter":"..."}, as the trace wiring writes notes).
struct EventQuery {
  EventType type = EventType::note;
  std::string filter;
  Micros since = 0;
  Micros until = 0;
  std::size_t limit = 500;
};

class TraceStore {
 public:
  virtual ~TraceStore() = default;
  // Newest first, at most query.limit (capped at 5000). Backends without it fail.
  virtual util::Result<std::vector<StoredEvent>> events(const EventQuery&) {
    return util::fail("this trace store cannot list events");
  }
  // Applies the events in order in one transaction: all or none.
  virtual util::Result<void> append(std::span<const TraceEvent> events) = 0;
  // Newest first (received_at, then insertion order), `limit` per page.
  virtual util::Result<Page<TraceRecord>> search(const TraceQuery& query) = 0;
  // Every record and event of one message; empty when the id is unknown.
  virtual util::Result<TraceDetail> detail(const std::string& trace_id) = 0;
  // Records received in [since, until) counted per hour, direction and status (statistics).
  virtual util::Result<std::vector<HourlyCount>> hourly_counts(Micros since, Micros until) = 0;
  // Deletes records and events of messages received before `before`; returns records removed.
  virtual util::Result<std::int64_t> purge(Micros before) = 0;
};

class QuarantineStore {
 public:
  virtual ~QuarantineStore() = default;
  // Stores a new held item; returns its id. `id`, `state` of the argument are ignored.
  virtual util::Result<std::int64_t> put(const QuarantineItem& item) = 0;
  virtual util::Result<std::optional<QuarantineItem>> get(std::int64_t id) = 0;
  // Newest first, without the raw message (call get for it).
  virtual util::Result<Page<QuarantineItem>> list(const QuarantineQuery& query) = 0;
  // Marks a held item released to `to` (all its recipients when empty) and returns
  // it with its message; fails when it is not held or `to` names a stranger.
  virtual util::Result<QuarantineItem> release(std::int64_t id, const std::string& by,
                                               const std::vector<std::string>& to) = 0;
  // Marks an item deleted and drops its message bytes; fails when already deleted.
  virtual util::Result<void> remove(std::int64_t id, const std::string& by) = 0;
  // Deletes items whose expiry is before `now`; returns how many.
  virtual util::Result<std::int64_t> purge_expired(Micros now) = 0;
};

class ClickStore {
 public:
  virtual ~ClickStore() = default;
  virtual util::Result<std::int64_t> add(const ClickRecord& click) = 0;
  // Adds the clicks in one transaction, all or none: the click service records in batches,
  // so a burst of clicks costs one commit rather than one per click.
  virtual util::Result<void> add_all(const std::vector<ClickRecord>& clicks) = 0;
  virtual util::Result<Page<ClickRecord>> search(const ClickQuery& query) = 0;
  virtual util::Result<std::int64_t> purge(Micros before) = 0;
};

class DmarcStore {
 public:
  virtual ~DmarcStore() = default;
  // Adds row.count to the row with the same day and fields (creating it).
  virtual util::Result<void> add(const DmarcRow& row) = 0;
  // Header-From domains with rows on days [first_day, last_day].
  virtual util::Result<std::vector<std::string>> domains(std::int64_t first_day, std::int64_t last_day) = 0;
  virtual util::Result<std::vector<DmarcRow>> rows(const std::string& header_from, std::int64_t first_day,
                                                   std::int64_t last_day) = 0;
  virtual util::Result<std::int64_t> purge(std::int64_t before_day) = 0;
};

class TlsRptStore {
 public:
  virtual ~TlsRptStore() = default;
  // Adds row.count to the row with the same day and fields (creating it).
  virtual util::Result<void> add(const TlsRptRow& row) = 0;
  // Policy domains with results on `day`.
  virtual util::Result<std::vector<std::string>> domains(std::int64_t day) = 0;
  virtual util::Result<std::vector<TlsRptRow>> rows(const std::string& policy_domain, std::int64_t day) = 0;
  virtual util::Result<std::int64_t> purge(std::int64_t before_day) = 0;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual util::Result<std::int64_t> append(const AuditEntry& entry) = 0;
  // Newest first; entries at or after `since`.
  virtual util::Result<std::vector<AuditEntry>> list(Micros since, std::size_t limit) = 0;
};

class Settings {
 public:
  virtual ~Settings() = default;
  virtual util::Result<std::optional<std::string>> get(const std::string& key) = 0;
  virtual util::Result<void> set(const std::string& key, const std::string& value) = 0;
  virtual util::Result<void> erase(const std::string& key) = 0;
  // Sets `key` only when it does not exist yet, atomically across nodes sharing
  // the store: true for the one caller that created it (a job claimed once).
  virtual util::Result<bool> claim(const std::string& key, const std::string& value) = 0;
  virtual util::Result<std::vector<std::pair<std::string, std::string>>> all() = 0;
};

// One opened backend. The members share one connection and live as long as this.
struct Stores {
  virtual ~Stores() = default;
  std::string backend;   // "sqlite" or "postgresql"
  std::string location;  // file path, or the URL with its password redacted
  std::unique_ptr<TraceStore> trace;
  std::unique_ptr<QuarantineStore> quarantine;
  std::unique_ptr<ClickStore> clicks;
  std::unique_ptr<DmarcStore> dmarc;
  std::unique_ptr<TlsRptStore> tlsrpt;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Settings> settings;
};

// `url`: "" = <data_dir>/mailmoat.db; "sqlite:/path/file.db";
// "postgresql://user[:password]@host[:port]/db". Applies pending migrations.
// Error messages never contain the password.
util::Result<std::unique_ptr<Stores>> open(const std::string& url, const std::string& data_dir,
                                          std::shared_ptr<const Clock> clock = nullptr);

}  // namespace mailmoat::store

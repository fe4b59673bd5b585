// What every SQL-backed store of one opened database shares: the connection,
// the mutex that serialises it (a connection is single-threaded) and the clock.
// make_stores() builds all the interfaces of stores.h over one Connection.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/sql/connection.h"
#include "store/stores.h"

namespace mailmoat::store::sql {

struct Shared {
  std::unique_ptr<Connection> conn;
  std::mutex mu;
  std::shared_ptr<const Clock> clock;
};

std::unique_ptr<TraceStore> make_trace_store(std::shared_ptr<Shared> s);
std::unique_ptr<QuarantineStore> make_quarantine_store(std::shared_ptr<Shared> s);
std::unique_ptr<ClickStore> make_click_store(std::shared_ptr<Shared> s);
std::unique_ptr<DmarcStore> make_dmarc_store(std::shared_ptr<Shared> s);
std::unique_ptr<TlsRptStore> make_tlsrpt_store(std::shared_ptr<Shared> s);
std::unique_ptr<AuditLog> make_audit_log(std::shared_ptr<Shared> s);
std::unique_ptr<Settings> make_settings(std::shared_ptr<Shared> s);

// Migrates the database to the latest schema and builds every store over it.
util::Result<std::unique_ptr<Stores>> make_stores(std::unique_ptr<Connection> conn,
                                                  std::shared_ptr<const Clock> clock, std::string backend,
                                                  std::string location);

// Cursors are "<time>.<id>" of the last row of a page; a bad cursor is an error.
std::string make_cursor(std::int64_t time, std::int64_t id);
util::Result<std::pair<std::int64_t, std::int64_t>> parse_cursor(std::string_view cursor);

std::string join_lines(const std::vector<std::string>& items);
std::vector<std::string> split_lines(const std::string& text);

}  // namespace mailmoat::store::sql

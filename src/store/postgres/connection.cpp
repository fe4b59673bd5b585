#include "store/postgres/connection.h"

#include <libpq-fe.h>

#include <string>

namespace mailmoat::store::postgres {
namespace {

constexpr Oid kByteaOid = 17;

struct ResultGuard {
  PGresult* r;
  ~ResultGuard() { PQclear(r); }
};

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

class PgConnection final : public sql::Connection {
 public:
  PgConnection(PGconn* conn, std::string redacted) : conn_(conn), redacted_(std::move(redacted)) {}
  ~PgConnection() override { PQfinish(conn_); }

  sql::Dialect dialect() const override { return sql::Dialect::postgresql; }

  util::Result<std::vector<sql::Row>> query(std::string_view sql, const std::vector<sql::Value>& params) override {
    auto res = run(sql, params);
    if (!res) return std::unexpected(res.error());
    ResultGuard g{*res};
    std::vector<sql::Row> rows;
    int nrows = PQntuples(g.r), ncols = PQnfields(g.r);
    rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      sql::Row row;
      row.cols.reserve(ncols);
      for (int j = 0; j < ncols; ++j) {
        if (PQgetisnull(g.r, i, j)) {
          row.cols.emplace_back(std::nullopt);
          continue;
        }
        const char* v = PQgetvalue(g.r, i, j);
        int len = PQgetlength(g.r, i, j);
        if (PQftype(g.r, j) == kByteaOid) row.cols.emplace_back(decode_bytea(v, len));
        else row.cols.emplace_back(std::string(v, len));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  util::Result<std::int64_t> exec(std::string_view sql, const std::vector<sql::Value>& params) override {
    auto res = run(sql, params);
    if (!res) return std::unexpected(res.error());
    ResultGuard g{*res};
    const char* n = PQcmdTuples(g.r);
    return n && *n ? std::stoll(n) : 0;
  }

  util::Result<void> exec_script(std::string_view sql) override {
    if (auto c = ensure_connected(); !c) return c;
    std::string text(sql);
    const bool in_transaction = PQtransactionStatus(conn_) != PQTRANS_IDLE;
    ResultGuard g{PQexec(conn_, text.c_str())};
    if (!in_transaction && PQresultStatus(g.r) == PGRES_FATAL_ERROR && PQstatus(conn_) == CONNECTION_BAD) {
      if (auto c = ensure_connected(); !c) return c;  // as in run(): the server closed it meanwhile
      PQclear(g.r);
      g.r = PQexec(conn_, text.c_str());
    }
    return check(g.r);
  }

  util::Result<void> begin() override { return exec_script("BEGIN"); }
  util::Result<void> commit() override { return exec_script("COMMIT"); }
  void rollback() override {
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }

 private:
  util::Result<void> ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return {};
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) return {};
    return util::fail("postgresql " + redacted_ + ": " + error_text());
  }

  std::string error_text() const {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return redact_url(msg);
  }

  util::Result<void> check(PGresult* r) {
    auto st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
    std::string msg = r ? PQresultErrorMessage(r) : "";
    if (msg.empty()) msg = error_text();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return util::fail("postgresql: " + redact_url(msg));
  }

  util::Result<PGresult*> run(std::string_view sql, const std::vector<sql::Value>& params) {
    if (auto c = ensure_connected(); !c) return std::unexpected(c.error());
    std::vector<std::string> ints;
    ints.reserve(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    std::vector<Oid> types(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& v = params[i];
      if (auto* n = std::get_if<std::int64_t>(&v)) {
        ints.push_back(std::to_string(*n));
        values[i] = ints.back().c_str();
        types[i] = 20;  // int8
      } else if (auto* s = std::get_if<std::string>(&v)) {
        values[i] = s->c_str();
      } else if (auto* b = std::get_if<sql::Blob>(&v)) {
        values[i] = b->bytes.data();
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
        types[i] = kByteaOid;
      }
    }
    std::string text = number_placeholders(sql);
    // A connection the server closed since the last statement (a restart, an idle timeout) is
    // only noticed when used: outside a transaction, reconnect and run the statement once more.
    const bool in_transaction = PQtransactionStatus(conn_) != PQTRANS_IDLE;
    PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), types.data(), values.data(),
                               lengths.data(), formats.data(), 0);
    if (!in_transaction && PQresultStatus(r) == PGRES_FATAL_ERROR && PQstatus(conn_) == CONNECTION_BAD) {
      PQclear(r);
      if (auto c = ensure_connected(); !c) return std::unexpected(c.error());
      r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), types.data(), values.data(),
                       lengths.data(), formats.data(), 0);
    }
    if (auto ok = check(r); !ok) {
      PQclear(r);
      return std::unexpected(ok.error());
    }
    return r;
  }

  static std::string decode_bytea(const char* v, int len) {
    std::string out;
    if (len >= 2 && v[0] == '\\' && v[1] == 'x') {
      out.reserve((len - 2) / 2);
      for (int i = 2; i + 1 < len; i += 2) out += static_cast<char>(hex(v[i]) * 16 + hex(v[i + 1]));
      return out;
    }
    return std::string(v, len);
  }

  PGconn* conn_;
  std::string redacted_;
};

}  // namespace

std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

util::Result<std::unique_ptr<sql::Connection>> connect(const StoreUrl& url) {
  std::string port = std::to_string(url.port);
  // Keyword arrays rather than a conninfo string: no quoting of the password.
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", "application_name", nullptr};
  const char* vals[] = {url.host.c_str(), port.c_str(), url.database.c_str(),
                        url.user.empty() ? nullptr : url.user.c_str(),
                        url.password.empty() ? nullptr : url.password.c_str(), "5", "mailmoat", nullptr};
  PGconn* conn = PQconnectdbParams(keys, vals, 0);
  if (!conn) return util::fail("postgresql " + url.redacted + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return util::fail("postgresql " + url.redacted + ": " + redact_url(msg));
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  return std::unique_ptr<sql::Connection>(std::make_unique<PgConnection>(conn, url.redacted));
}

}  // namespace mailmoat::store::postgres

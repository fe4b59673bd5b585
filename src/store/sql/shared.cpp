#include "store/sql/shared.h"

#include "store/sql/migrations.h"
#include "util/strings.h"

namespace mailmoat::store::sql {

std::int64_t Row::integer(std::size_t i) const {
  const auto& c = cols.at(i);
  if (!c || c->empty()) return 0;
  bool neg = (*c)[0] == '-';
  auto v = util::parse_uint(std::string_view(*c).substr(neg ? 1 : 0));
  if (!v) return 0;
  return neg ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

const std::string& Row::text(std::size_t i) const {
  static const std::string empty;
  const auto& c = cols.at(i);
  return c ? *c : empty;
}

std::string make_cursor(std::int64_t time, std::int64_t id) { return std::to_string(time) + "." + std::to_string(id); }

util::Result<std::pair<std::int64_t, std::int64_t>> parse_cursor(std::string_view cursor) {
  auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return util::fail("bad cursor");
  auto t = util::parse_uint(cursor.substr(0, dot));
  auto id = util::parse_uint(cursor.substr(dot + 1));
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (!t || !id || *t > kMax || *id > kMax) return util::fail("bad cursor");
  return std::pair{static_cast<std::int64_t>(*t), static_cast<std::int64_t>(*id)};
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += '\n';
    out += items[i];
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (auto part : util::split(text, '\n')) out.emplace_back(part);
  return out;
}

util::Result<std::unique_ptr<Stores>> make_stores(std::unique_ptr<Connection> conn,
                                                  std::shared_ptr<const Clock> clock, std::string backend,
                                                  std::string location) {
  if (auto m = migrate(*conn); !m) return std::unexpected(m.error());
  auto shared = std::make_shared<Shared>();
  shared->conn = std::move(conn);
  shared->clock = clock ? std::move(clock) : std::make_shared<SystemClock>();
  auto s = std::make_unique<Stores>();
  s->backend = std::move(backend);
  s->location = std::move(location);
  s->trace = make_trace_store(shared);
  s->quarantine = make_quarantine_store(shared);
  s->clicks = make_click_store(shared);
  s->dmarc = make_dmarc_store(shared);
  s->tlsrpt = make_tlsrpt_store(shared);
  s->audit = make_audit_log(shared);
  s->settings = make_settings(shared);
  return s;
}

}  // namespace mailmoat::store::sql

// Store benchmark (issue 10): trace events written per second through the real
// append path (batched, one transaction per batch) and through the
// TraceRecorder, then search latency over N generated messages (default 1
// million) by sender, by recipient wildcard and by time range, for one
// backend per run. Prints one table row per measurement.
//   store_bench --backend sqlite|postgresql [--messages N] [--events N] [--queue N] [--batch N] [--dir D]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "pg_server.h"
#include "store/recorder/trace_recorder.h"
#include "store/sql/connection.h"
#include "store/sql/pattern.h"
#include "store/sqlite/connection.h"
#include "store/postgres/connection.h"
#include "store/stores.h"
#include "store/url.h"

namespace ms = mailmoat::store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr ms::Micros kStart = 1'790'000'000'000'000;
constexpr ms::Micros kSpan = 30LL * 86'400'000'000;  // 30 days of mail

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void row(const char* backend, const std::string& what, const std::string& value, const std::string& note = "") {
  std::printf("| %-10s | %-44s | %14s | %s\n", backend, what.c_str(), value.c_str(), note.c_str());
  std::fflush(stdout);
}

std::string sender_of(int i) { return "user" + std::to_string(i % 50000) + "@sdomain" + std::to_string(i % 2000) + ".test"; }
std::string recipient_of(int i) {
  return "rcpt" + std::to_string((i * 7) % 20000) + "@rdomain" + std::to_string(i % 100) + ".test";
}

// A message's life: receive, authentication, two rules, a link, delivery per recipient.
std::vector<ms::TraceEvent> message_events(const std::string& id, ms::Micros at, int i) {
  std::vector<ms::TraceEvent> v;
  ms::TraceEvent r;
  r.trace_id = id;
  r.at = at;
  r.type = ms::EventType::received;
  r.detail = R"({"helo":"mx.example.net","tls":"TLSv1.3","connector":"inbound"})";
  r.message = ms::MessageInfo{sender_of(i), {recipient_of(i)}, "Invoice " + std::to_string(i), "<" + id + "@x>",
                              "192.0.2." + std::to_string(i % 250), ms::Direction::inbound, 12000};
  v.push_back(r);
  auto step = [&](ms::EventType t, std::string detail, std::optional<ms::TraceStatus> s = std::nullopt) {
    v.push_back(ms::TraceEvent{id, at + static_cast<ms::Micros>(v.size()), t, "", s, std::move(detail), std::nullopt});
  };
  step(ms::EventType::authentication, R"({"spf":"pass","dkim":"pass","dmarc":"pass"})", ms::TraceStatus::analyzing);
  step(ms::EventType::rule_hit, R"({"rule":"external-tag"})");
  step(ms::EventType::rule_hit, R"({"rule":"finance-keywords"})");
  step(ms::EventType::link_rewritten, R"({"count":3})");
  step(ms::EventType::delivery_attempt, R"({"host":"mail.internal","reply":"250 2.0.0 ok"})", ms::TraceStatus::delivered);
  return v;
}

std::unique_ptr<ms::sql::Connection> raw(const std::string& url) {
  auto p = ms::parse_store_url(url, "");
  auto c = p->kind == ms::StoreUrl::Kind::sqlite ? ms::sqlite::connect(p->path) : ms::postgres::connect(*p);
  if (!c) {
    std::fprintf(stderr, "connect: %s\n", c.error().message.c_str());
    std::exit(1);
  }
  return std::move(*c);
}

// Bulk-loads `n` trace records with multi-row INSERTs (set-up only, not measured as the write path).
void load_records(ms::sql::Connection& c, int n) {
  constexpr int kRows = 500;
  std::mt19937_64 rng(42);
  for (int base = 0; base < n; base += kRows) {
    std::string sql =
        "INSERT INTO trace_records (trace_id, recipient, recipient_lc, recipient_rev, sender, sender_lc, sender_rev, "
        "subject, subject_lc, message_id, client_ip, direction, status, size, received_at, updated_at) VALUES ";
    std::vector<ms::sql::Value> p;
    for (int i = base; i < std::min(n, base + kRows); ++i) {
      if (i > base) sql += ",";
      sql += "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
      std::string s = sender_of(i), r = recipient_of(i), subj = "Invoice " + std::to_string(i);
      // Mail arrives in time order, give or take a minute.
      ms::Micros at = kStart + kSpan / n * i + static_cast<ms::Micros>(rng() % 60'000'000);
      for (auto v : std::initializer_list<ms::sql::Value>{
               "L" + std::to_string(i), r, r, ms::sql::reversed(r), s, s, ms::sql::reversed(s), subj, subj,
               "<L" + std::to_string(i) + "@x>", "192.0.2." + std::to_string(i % 250), std::string("inbound"),
               std::string(i % 10 ? "delivered" : "filtered_as_spam"), std::int64_t{12000}, at, at})
        p.push_back(v);
    }
    if (auto b = c.begin(); !b) std::exit(1);
    if (auto r = c.exec(sql, p); !r) {
      std::fprintf(stderr, "load: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    if (auto cm = c.commit(); !cm) std::exit(1);
  }
  if (c.dialect() == ms::sql::Dialect::postgresql) (void)c.exec_script("VACUUM ANALYZE trace_records");
  else (void)c.exec_script("ANALYZE");
}

void bench_writes(const char* backend, ms::Stores& s, const std::string& dir, int events_wanted, std::size_t queue,
                  std::size_t batch) {
  int messages = events_wanted / 6;
  std::vector<ms::TraceEvent> all;
  for (int i = 0; i < messages; ++i) {
    auto v = message_events("W" + std::to_string(i), kStart + kSpan + i, i);
    all.insert(all.end(), v.begin(), v.end());
  }
  auto t = Clock::now();
  const std::size_t kBatch = batch;
  for (std::size_t i = 0; i < all.size(); i += kBatch) {
    auto r = s.trace->append(std::span(all).subspan(i, std::min(kBatch, all.size() - i)));
    if (!r) std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
  }
  double secs = seconds_since(t);
  row(backend, "append, batches of " + std::to_string(batch) + " (events/s)", std::to_string(static_cast<long>(all.size() / secs)),
      std::to_string(all.size()) + " events, 1/6 create a record");

  // The same load through the recorder: record() from 4 threads, then wait until stored.
  for (auto& e : all) e.trace_id = "R" + e.trace_id;
  auto rec = ms::TraceRecorder::start(*s.trace, ms::RecorderOptions{dir + "/bench-spill.log", queue, batch});
  if (!rec) std::exit(1);
  t = Clock::now();
  std::vector<std::thread> threads;
  std::size_t per = all.size() / 4 + 1;
  std::vector<std::vector<float>> lat(4);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (std::size_t i = k * per; i < std::min(all.size(), (k + 1) * per); ++i) {
        auto t0 = Clock::now();
        (*rec)->record(all[i]);
        lat[k].push_back(std::chrono::duration<float, std::micro>(Clock::now() - t0).count());
      }
    });
  for (auto& th : threads) th.join();
  double record_secs = seconds_since(t);
  (*rec)->wait_idle(std::chrono::minutes(10));
  secs = seconds_since(t);
  auto st = (*rec)->stats();
  std::vector<float> l;
  for (auto& v : lat) l.insert(l.end(), v.begin(), v.end());
  std::sort(l.begin(), l.end());
  char note[160];
  std::snprintf(note, sizeof note, "record() %ld/s from 4 threads; latency p99 %.1f us, p99.9 %.1f us, max %.0f us; spilled %lu",
                static_cast<long>(all.size() / record_secs), l[l.size() * 99 / 100], l[l.size() * 999 / 1000], l.back(),
                static_cast<unsigned long>(st.spilled));
  row(backend, "TraceRecorder end to end (events/s)", std::to_string(static_cast<long>(all.size() / secs)), note);
}

void bench_search(const char* backend, ms::TraceStore& trace, const std::string& what, const ms::TraceQuery& q) {
  std::vector<double> ms_;
  std::size_t found = 0;
  for (int i = 0; i < 21; ++i) {
    auto t = Clock::now();
    auto r = trace.search(q);
    ms_.push_back(seconds_since(t) * 1000);
    if (!r) {
      std::fprintf(stderr, "search: %s\n", r.error().message.c_str());
      return;
    }
    found = r->items.size();
  }
  std::sort(ms_.begin(), ms_.end());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f ms", ms_[ms_.size() / 2]);
  char note[96];
  std::snprintf(note, sizeof note, "p95 %.2f ms, %zu rows on the page", ms_[ms_.size() * 95 / 100], found);
  row(backend, "search " + what + " (median)", buf, note);
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend = "sqlite", dir;
  int messages = 1'000'000, events = 120'000;
  std::size_t queue = 20000, batch = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--backend") backend = v;
    else if (k == "--messages") messages = std::atoi(v.c_str());
    else if (k == "--events") events = std::atoi(v.c_str());
    else if (k == "--dir") dir = v;
    else if (k == "--batch") batch = static_cast<std::size_t>(std::atol(v.c_str()));
    else if (k == "--queue") queue = static_cast<std::size_t>(std::atol(v.c_str()));
  }
  if (dir.empty()) {
    char t[] = "/tmp/mailmoat-bench-XXXXXX";
    dir = ::mkdtemp(t);
  }
  mailmoat::store::testing::PgServer pg;
  std::string url = "sqlite:" + dir + "/bench.db";
  if (backend == "postgresql") {
    if (std::string err = pg.start(/*durable=*/true); !err.empty()) {
      std::fprintf(stderr, "postgresql: %s\n", err.c_str());
      return 1;
    }
    url = mailmoat::store::testing::create_database(pg.url());
  }
  auto s = ms::open(url, dir);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    return 1;
  }
  const char* b = backend.c_str();
  bench_writes(b, **s, dir, events, queue, batch);
  auto t = Clock::now();
  {
    auto c = raw(url);
    load_records(*c, messages);
  }
  row(b, "bulk load of the search data (set-up)", std::to_string(messages) + " msgs",
      std::to_string(static_cast<long>(seconds_since(t))) + " s");
  auto& trace = *(*s)->trace;
  bench_search(b, trace, "by sender user777@sdomain777.test", {.sender = "user777@sdomain777.test"});
  bench_search(b, trace, "by recipient *@rdomain42.test", {.recipient = "*@rdomain42.test"});
  bench_search(b, trace, "by recipient rcpt1234@*", {.recipient = "rcpt1234@*"});
  bench_search(b, trace, "by time range, one hour", {.since = kStart + kSpan / 2, .until = kStart + kSpan / 2 + 3'600'000'000});
  bench_search(b, trace, "by time range, last 7 days", {.since = kStart + kSpan - 7 * 86'400'000'000LL});
  bench_search(b, trace, "by sender *@sdomain9.test + 1 day", {.sender = "*@sdomain9.test", .since = kStart + kSpan / 2,
                                                                   .until = kStart + kSpan / 2 + 86'400'000'000});
  bench_search(b, trace, "by status filtered_as_spam", {.status = ms::TraceStatus::filtered_as_spam});
  bench_search(b, trace, "newest page, no filter", {});
  s->reset();
  pg.destroy();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

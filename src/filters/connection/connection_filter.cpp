#include "filters/connection/connection_filter.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>

#include "dns/ip_address.h"
#include "util/address_list.h"
#include "util/strings.h"

namespace mailmoat::filters {

bool sender_listed(const std::string& sender, const std::vector<std::string>& list) {
  return util::sender_listed(sender, list);
}

std::string dnsbl_query(const std::string& ip, const std::string& zone) {
  auto addr = dns::IpAddress::parse(ip);
  if (!addr) return {};
  std::string r = addr->reverse_name();  // "...in-addr.arpa" / "...ip6.arpa": keep the labels and their dot
  return r.substr(0, r.size() - (addr->v6 ? 8 : 12)) + zone;
}

namespace {

// The DNSBL lookups of one message; the last answer finishes the filter.
struct Lookups {
  std::mutex mu;
  std::set<std::string> waiting;  // zones not answered yet
  bool finished = false;           // done was called: late answers are dropped, ctx may be gone
  std::vector<std::string> timeouts;
  std::vector<std::string> listed;  // "zone: meaning (code)"
  std::vector<std::string> problems;
  pipeline::MessageContext* ctx = nullptr;
  pipeline::Filter::Done done;
  int scl = 9;

  void answer(const std::string& zone, const dns::Answer& a, const ConnectionConfig& cfg) {
    std::unique_lock lock(mu);
    if (finished) return;
    waiting.erase(zone);
    if (a.status == dns::Status::ok) {
      for (const auto& code : a.addresses) {
        if (!code.starts_with("127.")) continue;  // RFC 5782 §2.1: answers are in 127.0.0.0/8
        auto it = cfg.dnsbl_codes.find(code);
        if (!cfg.dnsbl_codes.empty() && it == cfg.dnsbl_codes.end()) continue;
        listed.push_back(zone + ": " + (it == cfg.dnsbl_codes.end() ? std::string("listed") : it->second) + " (" +
                         code + ")");
        break;
      }
    } else if (a.status != dns::Status::nxdomain && a.status != dns::Status::nodata) {
      problems.push_back(zone + ": lookup failed, ignored");
    }
    if (!waiting.empty()) return;
    finished = true;
    lock.unlock();
    finish();
  }

  void timed_out(std::chrono::milliseconds budget) {
    std::unique_lock lock(mu);
    if (finished) return;
    finished = true;
    for (const auto& z : waiting)
      timeouts.push_back(z + ": no answer within " + std::to_string(budget.count()) + " ms, ignored");
    lock.unlock();
    finish();
  }

  void finish() {
    for (const auto& p : problems) ctx->notes.push_back({"connection", "dnsbl_error", p});
    for (const auto& t : timeouts) ctx->notes.push_back({"connection", "dnsbl_timeout", t});
    if (!listed.empty()) {
      std::string all;
      for (const auto& l : listed) all += (all.empty() ? "" : "; ") + l;
      ctx->notes.push_back({"connection", "dnsbl_listed", ctx->connection.client_address + " on " + all});
      ctx->scl = std::max(ctx->scl.value_or(0), scl);
      ctx->verdict_reasons.push_back("dnsbl:" + listed[0].substr(0, listed[0].find(':')));
    }
    auto d = std::move(done);
    d(pipeline::Verdict::accept());
  }
};

}  // namespace

void ConnectionFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  bool judged = false;
  for (const auto& r : config_.roles) judged |= r == ctx.connection.role;
  if (!judged) {
    done(pipeline::Verdict::accept());
    return;
  }
  const std::string& ip = ctx.connection.client_address;
  if (util::any_contains(config_.ip_allow, ip)) {
    ctx.scl = -1;
    ctx.verdict_reasons.push_back("ip-allow");
    ctx.notes.push_back({"connection", "ip_allow", ip + " is on the IP allow list: spam filtering bypassed (SCL -1)"});
    done(pipeline::Verdict::accept());
    return;
  }
  if (sender_listed(ctx.envelope.sender, config_.sender_block)) {
    pipeline::Verdict v;
    v.disposition = pipeline::Disposition::reject;
    v.code = 550;
    v.enhanced = "5.7.1";
    v.text = "Sender address rejected: on the block list";
    v.filter = "connection";
    v.reason = "sender " + ctx.envelope.sender + " on the sender block list";
    done(std::move(v));
    return;
  }
  const bool authenticated = ctx.auth.spf == "pass" || ctx.auth.dmarc == "pass";
  auto shared_allow = config_.shared_sender_allow ? config_.shared_sender_allow() : nullptr;
  if (sender_listed(ctx.envelope.sender, config_.sender_allow) ||
      (shared_allow && sender_listed(ctx.envelope.sender, *shared_allow))) {
    if (authenticated) {
      ctx.scl = -1;
      ctx.verdict_reasons.push_back("sender-allow");
      ctx.notes.push_back({"connection", "sender_allow", ctx.envelope.sender + " is on the sender allow list (SCL -1)"});
      done(pipeline::Verdict::accept());
      return;
    }
    ctx.notes.push_back({"connection", "sender_allow_ignored",
                         ctx.envelope.sender + " is on the sender allow list but neither SPF nor DMARC passed"});
  }
  auto lookups = std::make_shared<Lookups>();
  lookups->ctx = &ctx;
  lookups->done = std::move(done);
  lookups->scl = config_.dnsbl_scl;
  std::vector<std::pair<std::string, std::string>> queries;
  for (const auto& zone : config_.dnsbl_zones)
    if (auto q = dnsbl_query(ip, zone); !q.empty()) queries.emplace_back(zone, q);
  if (queries.empty()) {
    lookups->finish();
    return;
  }
  for (const auto& q : queries) lookups->waiting.insert(q.first);
  if (scheduler_) {
    auto budget = config_.dnsbl_timeout;
    scheduler_(budget, [lookups, budget] { lookups->timed_out(budget); });
  }
  for (const auto& [zone, name] : queries)
    resolver_.resolve(dns::Question{name, dns::RecordType::a},
                      [lookups, zone, this](const dns::Answer& a) { lookups->answer(zone, a, config_); });
}

}  // namespace mailmoat::filters

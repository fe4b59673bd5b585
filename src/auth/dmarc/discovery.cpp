#include "auth/dmarc/discovery.h"

#include "util/strings.h"

namespace mailmoat::auth::dmarc {

std::vector<std::string> walk_targets(const std::string& domain) {
  auto labels = util::split(domain, '.');
  std::vector<std::string> out{domain};
  std::size_t n = labels.size();
  std::size_t next = n >= 8 ? 7 : n - 1;
  for (std::size_t k = next; k >= 1; --k) {
    std::string t;
    for (std::size_t i = n - k; i < n; ++i) {
      if (!t.empty()) t += '.';
      t += labels[i];
    }
    out.push_back(std::move(t));
  }
  return out;
}

dns::Task<Found> Discovery::record_at(std::string domain) {
  if (auto it = cache_.find(domain); it != cache_.end()) co_return it->second;
  ++queries_;
  auto ans = co_await dns::query(resolver_, "_dmarc." + domain, dns::RecordType::txt);
  Found f;
  if (ans.status == dns::Status::servfail || ans.status == dns::Status::timeout) {
    f.kind = Found::error;
    f.problem = "DNS failure for _dmarc." + domain;
  } else {
    std::vector<std::string> records;
    for (auto& t : ans.txt)
      if (is_dmarc_record(t)) records.push_back(t);
    // Several records at one name are all discarded (RFC 9989 §4.10 step 2).
    if (records.size() == 1) {
      auto rec = parse_record(records.front());
      if (rec) f.kind = Found::valid, f.record = *rec;
      else f.kind = Found::invalid, f.problem = "_dmarc." + domain + ": " + rec.error().message;
    }
  }
  cache_.emplace(domain, f);
  co_return f;
}

dns::Task<Discovered> Discovery::policy(std::string from_domain) {
  if (options_.mode == Mode::rfc7489) co_return co_await policy_7489(std::move(from_domain));
  // cppcheck-suppress accessMoved ; the co_return above ends the coroutine (cppcheck 2.10 reads on)
  co_return co_await policy_9989(std::move(from_domain));
}

// cppcheck-suppress passedByValue ; a coroutine keeps its own copy across suspensions
dns::Task<Discovered> Discovery::policy_9989(std::string from_domain) {
  Discovered out;
  int asked = 0;
  for (const auto& target : walk_targets(from_domain)) {
    if (++asked > options_.max_walk_queries) break;
    Found f = co_await record_at(target);
    if (f.kind == Found::error) co_return Discovered{Verdict::temperror, target, {}, f.problem};
    if (f.kind == Found::valid) co_return Discovered{Verdict::pass, target, f.record, {}};
    if (f.kind == Found::invalid && out.problem.empty()) out.problem = f.problem;
  }
  out.verdict = out.problem.empty() ? Verdict::none : Verdict::permerror;
  co_return out;
}

dns::Task<Discovered> Discovery::policy_7489(std::string from_domain) {
  std::vector<std::string> targets{from_domain};
  std::string org = options_.psl ? options_.psl->organizational_domain(from_domain) : from_domain;
  if (org != from_domain) targets.push_back(org);
  Discovered out;
  for (const auto& target : targets) {
    Found f = co_await record_at(target);
    if (f.kind == Found::error) co_return Discovered{Verdict::temperror, target, {}, f.problem};
    if (f.kind == Found::valid) co_return Discovered{Verdict::pass, target, f.record, {}};
    if (f.kind == Found::invalid && out.problem.empty()) out.problem = f.problem;
  }
  out.verdict = out.problem.empty() ? Verdict::none : Verdict::permerror;
  co_return out;
}

namespace {
// The name one label longer than `ancestor` on the way down to `domain`.
std::string child_towards(const std::string& domain, const std::string& ancestor) {
  if (domain.size() <= ancestor.size()) return domain;
  std::string prefix = domain.substr(0, domain.size() - ancestor.size() - 1);
  std::size_t dot = prefix.rfind('.');
  return (dot == std::string::npos ? prefix : prefix.substr(dot + 1)) + "." + ancestor;
}
}  // namespace

dns::Task<OrgDomain> Discovery::organizational_domain(std::string domain) {
  if (auto it = orgs_.find(domain); it != orgs_.end()) co_return it->second;
  OrgDomain out{domain, false};
  if (options_.mode == Mode::rfc7489) {
    if (options_.psl) out.name = options_.psl->organizational_domain(domain);
  } else {
    // RFC 9989 §4.10.2: psd=n marks the organization, psd=y the suffix above
    // it; otherwise the record with the fewest labels, else the name itself.
    std::string fewest;
    int asked = 0;
    for (const auto& target : walk_targets(domain)) {
      if (++asked > options_.max_walk_queries) break;
      Found f = co_await record_at(target);
      if (f.kind == Found::error) {
        out.temperror = true;
        break;
      }
      if (f.kind != Found::valid) continue;
      if (f.record.psd == PsdFlag::no) {
        fewest = target;
        break;
      }
      if (f.record.psd == PsdFlag::yes) {
        fewest = child_towards(domain, target);
        break;
      }
      fewest = target;
    }
    if (!fewest.empty()) out.name = fewest;
  }
  orgs_.emplace(domain, out);
  co_return out;
}

dns::Task<bool> Discovery::nonexistent(std::string domain) {
  ++queries_;
  auto ans = co_await dns::query(resolver_, domain, dns::RecordType::a);
  co_return ans.status == dns::Status::nxdomain;
}

}  // namespace mailmoat::auth::dmarc

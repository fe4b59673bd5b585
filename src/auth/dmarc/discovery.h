// DMARC policy discovery and organizational domains (RFC 9989 §4.10 tree
// walk; RFC 7489 §6.6.3 with the PSL). Internal to the dmarc module: one
// Discovery per evaluation caches every _dmarc answer it fetched.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "auth/dmarc/dmarc.h"

namespace mailmoat::auth::dmarc {

struct Found {
  enum Kind { absent, valid, invalid, error } kind = absent;
  Record record;
  std::string problem;
};

struct Discovered {
  Verdict verdict = Verdict::none;  // none (no record), pass = found, temperror, permerror
  std::string domain;
  Record record;
  std::string problem;
};

struct OrgDomain {
  std::string name;
  bool temperror = false;
};

// The walk's query targets for `domain`: itself, then (past 7 labels) its last
// 7 labels, then one label fewer each step down to the top-level domain.
std::vector<std::string> walk_targets(const std::string& domain);

class Discovery {
 public:
  Discovery(dns::Resolver& resolver, const Options& options) : resolver_(resolver), options_(options) {}
  dns::Task<Found> record_at(std::string domain);
  dns::Task<Discovered> policy(std::string from_domain);
  dns::Task<OrgDomain> organizational_domain(std::string domain);
  dns::Task<bool> nonexistent(std::string domain);
  int queries() const { return queries_; }

 private:
  dns::Task<Discovered> policy_9989(std::string from_domain);
  dns::Task<Discovered> policy_7489(std::string from_domain);
  dns::Resolver& resolver_;
  const Options& options_;
  std::map<std::string, Found> cache_;
  std::map<std::string, OrgDomain> orgs_;
  int queries_ = 0;
};

}  // namespace mailmoat::auth::dmarc

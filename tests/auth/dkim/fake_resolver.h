// A Resolver over an in-memory map of name -> TXT answer for the DKIM and ARC
// tests (the zone-file resolver lives on another branch). Names missing from
// the map are NXDOMAIN; it answers synchronously and counts the queries.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "dns/resolver.h"
#include "util/strings.h"

namespace mailmoat::testing {

class FakeResolver : public dns::Resolver {
 public:
  void add_txt(const std::string& name, std::string text) {
    auto& a = answers_[util::to_lower(name)];
    a.status = dns::Status::ok;
    a.txt.push_back(std::move(text));
  }
  void add_status(const std::string& name, dns::Status status) { answers_[util::to_lower(name)].status = status; }
  void resolve(dns::Question q, Callback done) override {
    ++queries;
    auto it = answers_.find(util::to_lower(q.name));
    done(it == answers_.end() ? dns::Answer{} : it->second);
  }
  int queries = 0;

 private:
  std::map<std::string, dns::Answer> answers_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mailmoat::testing

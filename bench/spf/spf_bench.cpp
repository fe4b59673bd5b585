// SPF check_host() and DMARC evaluations per second against an in-memory
// zone (the warm-cache case: every answer is already at hand), over the cases
// in cases.txt that pyspf_bench.py runs through pyspf in the same `run`.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "auth/dmarc/dmarc.h"
#include "auth/spf/spf.h"

using namespace mailmoat;

namespace {

struct Case {
  auth::spf::Request request;
  std::string expected;
};

dns::ZoneResolver& zone() {
  static dns::ZoneResolver z = [] {
    dns::ZoneResolver r;
    if (auto ok = r.load_file(std::string(SPF_BENCH_DIR) + "/zone.txt"); !ok) {
      std::fprintf(stderr, "%s\n", ok.error().message.c_str());
      std::abort();
    }
    return r;
  }();
  return z;
}

const std::vector<Case>& cases() {
  static std::vector<Case> all = [] {
    std::vector<Case> out;
    std::ifstream in(std::string(SPF_BENCH_DIR) + "/cases.txt");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream f(line);
      std::string ip, from, helo, expected;
      f >> ip >> from >> helo >> expected;
      out.push_back({auth::spf::mailfrom_request(*dns::IpAddress::parse(ip), from, helo), expected});
    }
    // Every case must give its expected result, or the figures mean nothing.
    for (const auto& c : out) {
      auto r = auth::spf::check_host(zone(), c.request);
      if (auth::spf::to_string(r.verdict) != c.expected) {
        std::fprintf(stderr, "case %s %s: got %s, want %s\n", c.request.ip.to_string().c_str(),
                     c.request.sender.c_str(), std::string(auth::spf::to_string(r.verdict)).c_str(), c.expected.c_str());
        std::abort();
      }
    }
    return out;
  }();
  return all;
}

void BM_SpfCheckHost(benchmark::State& state) {
  const auto& all = cases();
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = auth::spf::check_host(zone(), all[i++ % all.size()].request);
    benchmark::DoNotOptimize(r.verdict);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpfCheckHost);

void BM_DmarcEvaluate(benchmark::State& state) {
  std::vector<auth::dmarc::Input> inputs;
  for (const auto& c : cases()) {
    auto spf = auth::spf::check_host(zone(), c.request);
    auth::dmarc::Input in;
    in.from_domain = "news." + c.request.domain;  // a subdomain: exercises the tree walk
    in.spf = {c.request.domain, spf.verdict == auth::spf::Verdict::pass ? auth::dmarc::AuthOutcome::pass
                                                                         : auth::dmarc::AuthOutcome::fail};
    in.dkim = {{c.request.domain, "s1", auth::dmarc::AuthOutcome::pass}};
    inputs.push_back(std::move(in));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = auth::dmarc::evaluate(zone(), inputs[i++ % inputs.size()]);
    benchmark::DoNotOptimize(r.verdict);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DmarcEvaluate);

}  // namespace

BENCHMARK_MAIN();

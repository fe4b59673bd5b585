// Transport rule evaluation per message for 10, 100 and 1,000 rules over the
// corpus of corpus.h: evaluation alone (facts built beforehand), and facts
// building (GMime decoding of subject and text parts) plus evaluation.
#include <benchmark/benchmark.h>

#include "corpus.h"
#include "policy/evaluator.h"
#include "policy/loader.h"

namespace {

constexpr int kMessages = 500;

const std::vector<bench_rules::Message>& messages() {
  static const auto m = bench_rules::make_messages(kMessages);
  return m;
}

mailmoat::policy::FactsInput input_of(const bench_rules::Message& m) {
  mailmoat::policy::FactsInput in;
  in.message = m.bytes;
  in.envelope_sender = m.sender;
  in.envelope_recipients = {m.recipient};
  in.client_ip = m.client_ip;
  in.role = "inbound";
  in.internal_domains = {"corp.example"};
  in.auth.spf = "pass";
  return in;
}

mailmoat::policy::RuleSet rules(int n) {
  auto loaded = mailmoat::policy::load_rules(bench_rules::make_rules(n).toml, "bench.toml");
  if (!loaded.rules) std::abort();
  return std::move(*loaded.rules);
}

void BM_Evaluate(benchmark::State& state) {
  auto rs = rules(static_cast<int>(state.range(0)));
  std::vector<mailmoat::policy::MessageFacts> facts;
  for (const auto& m : messages()) facts.push_back(mailmoat::policy::build_facts(input_of(m)));
  std::size_t i = 0, matched = 0;
  for (auto _ : state) {
    auto ev = mailmoat::policy::evaluate(rs, facts[i++ % facts.size()], 0);
    matched += ev.matched.size();
    benchmark::DoNotOptimize(ev);
  }
  state.counters["matched_per_msg"] = static_cast<double>(matched) / static_cast<double>(state.iterations());
}

void BM_FactsAndEvaluate(benchmark::State& state) {
  auto rs = rules(static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    auto facts = mailmoat::policy::build_facts(input_of(messages()[i++ % kMessages]));
    auto ev = mailmoat::policy::evaluate(rs, facts, 0);
    benchmark::DoNotOptimize(ev);
  }
}

}  // namespace

BENCHMARK(BM_Evaluate)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FactsAndEvaluate)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();

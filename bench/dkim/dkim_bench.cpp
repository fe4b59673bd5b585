// DKIM throughput on one core for a 10 KB message with a cached key: each
// verification parses the message, hashes the body and headers, parses the
// key record and checks one signature; each signing parses, hashes and signs.
// bench/dkim/run compares these with `openssl speed` for the same primitives.
#include <benchmark/benchmark.h>

#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "mail/message.h"

namespace {

using namespace mailmoat;
using namespace mailmoat::auth::dkim;

std::string ten_kb_message() {
  std::string m =
      "From: Joe <joe@example.com>\r\nTo: Sue <sue@example.org>\r\nSubject: Quarterly report\r\n"
      "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  const std::string line = "The quick brown fox jumps over the lazy dog, again and  again.\t \r\n";
  while (m.size() < 10240) m += line;
  return m;
}

struct Setup {
  std::string message = ten_kb_message();
  PrivateKey rsa = *generate_private_key(KeyType::rsa, 2048);
  PrivateKey ed = *generate_private_key(KeyType::ed25519, 0);
  std::string signed_rsa, signed_ed;
  ResolvedKeyPtr rsa_key, ed_key;  // the key cache's entries
  Setup() {
    auto m = mail::Message::parse(message);
    signed_rsa = *SignerBuilder("example.com", "rsa", rsa).build()->sign(*m, 1764300000) + message;
    signed_ed = *SignerBuilder("example.com", "ed", ed).build()->sign(*m, 1764300000) + message;
    dns::Answer a;
    a.status = dns::Status::ok;
    a.txt = {key_record_for(rsa)};
    rsa_key = resolve_key(a, "rsa._domainkey.example.com");
    a.txt = {key_record_for(ed)};
    ed_key = resolve_key(a, "ed._domainkey.example.com");
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void verify_one(benchmark::State& state, const std::string& text, const std::string& name, const ResolvedKeyPtr& key) {
  VerifyOptions o;
  o.now = 1764300000;
  for (auto _ : state) {
    auto m = mail::Message::parse(text);
    Verification v(*m, o);
    v.add_resolved_key(name, key);
    auto r = v.results();
    if (r.size() != 1 || r[0].result != Result::pass) state.SkipWithError("verification did not pass");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifyRsa2048(benchmark::State& state) {
  verify_one(state, setup().signed_rsa, "rsa._domainkey.example.com", setup().rsa_key);
}
void BM_VerifyEd25519(benchmark::State& state) {
  verify_one(state, setup().signed_ed, "ed._domainkey.example.com", setup().ed_key);
}

void sign_one(benchmark::State& state, const PrivateKey& key) {
  auto signer = *SignerBuilder("example.com", "s", key).build();
  for (auto _ : state) {
    auto m = mail::Message::parse(setup().message);
    auto field = signer.sign(*m, 1764300000);
    benchmark::DoNotOptimize(field);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SignRsa2048(benchmark::State& state) { sign_one(state, setup().rsa); }
void BM_SignEd25519(benchmark::State& state) { sign_one(state, setup().ed); }

BENCHMARK(BM_VerifyRsa2048);
BENCHMARK(BM_VerifyEd25519);
BENCHMARK(BM_SignRsa2048);
BENCHMARK(BM_SignEd25519);

}  // namespace

BENCHMARK_MAIN();

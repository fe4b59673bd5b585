#include "dns/caching_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mailmoat::dns {
namespace {

using namespace std::chrono_literals;

// Answers every question with what `next` says, counting the questions.
class CountingResolver : public Resolver {
 public:
  void resolve(Question, Callback done) override {
    ++asked;
    done(next);
  }
  std::atomic<int> asked{0};
  Answer next;
};

Answer txt(std::uint32_t ttl, std::string text = "v=spf1 -all") {
  Answer a;
  a.status = Status::ok;
  a.ttl = ttl;
  a.txt = {std::move(text)};
  return a;
}

struct Fixture {
  CountingResolver inner;
  std::chrono::steady_clock::time_point now{};
  CachingResolver cache{inner, CacheLimits{3, 3600, 900}, [this] { return now; }};
  Answer ask(std::string name, RecordType type = RecordType::txt) {
    Answer got;
    bool called = false;
    cache.resolve(Question{std::move(name), type}, [&](Answer a) {
      got = std::move(a);
      called = true;
    });
    EXPECT_TRUE(called);
    return got;
  }
};

TEST(CachingResolver, AskedAgainWithinTheTtlIsAnsweredFromMemoryWithTheTtlLeft) {
  Fixture f;
  f.inner.next = txt(300);
  EXPECT_EQ(f.ask("example.org").txt, std::vector<std::string>{"v=spf1 -all"});
  f.now += 100s;
  f.inner.next = txt(300, "changed");
  Answer a = f.ask("EXAMPLE.org");  // names compare without case
  EXPECT_EQ(a.txt, std::vector<std::string>{"v=spf1 -all"});
  EXPECT_EQ(a.ttl, 200u);
  EXPECT_EQ(f.inner.asked, 1);
  EXPECT_EQ(f.cache.hits(), 1u);
  f.ask("example.org", RecordType::a);  // another type is another question
  EXPECT_EQ(f.inner.asked, 2);
}

TEST(CachingResolver, AnExpiredAnswerIsAskedForAgain) {
  Fixture f;
  f.inner.next = txt(60);
  f.ask("example.org");
  f.now += 61s;
  f.inner.next = txt(60, "new");
  EXPECT_EQ(f.ask("example.org").txt, std::vector<std::string>{"new"});
  EXPECT_EQ(f.inner.asked, 2);
}

TEST(CachingResolver, FailuresBogusAndTtlZeroAreNeverCached) {
  Fixture f;
  for (auto status : {Status::servfail, Status::timeout}) {
    Answer a;
    a.status = status;
    a.ttl = 300;
    f.inner.next = a;
    f.ask("fail.example");
    f.ask("fail.example");
  }
  EXPECT_EQ(f.inner.asked, 4);
  Answer bogus = txt(300);
  bogus.bogus = true;
  f.inner.next = bogus;
  f.ask("bogus.example");
  f.ask("bogus.example");
  f.inner.next = txt(0);
  f.ask("zero.example");
  f.ask("zero.example");
  EXPECT_EQ(f.inner.asked, 8);
}

TEST(CachingResolver, NegativeAnswersAreCachedUpToTheirOwnCap) {
  Fixture f;
  Answer nx;
  nx.status = Status::nxdomain;
  nx.ttl = 86400;
  f.inner.next = nx;
  f.ask("nope.example");
  f.now += 899s;
  EXPECT_EQ(f.ask("nope.example").status, Status::nxdomain);
  EXPECT_EQ(f.inner.asked, 1);
  f.now += 2s;  // past max_negative_ttl (900), though the record said a day
  f.ask("nope.example");
  EXPECT_EQ(f.inner.asked, 2);
}

TEST(CachingResolver, HoldsAtMostItsCapacityDroppingTheFirstCached) {
  Fixture f;  // capacity 3
  f.inner.next = txt(300);
  for (auto n : {"a.example", "b.example", "c.example", "d.example"}) f.ask(n);
  EXPECT_EQ(f.inner.asked, 4);
  f.ask("b.example");
  f.ask("c.example");
  f.ask("d.example");
  EXPECT_EQ(f.inner.asked, 4);
  f.ask("a.example");  // dropped when d came
  EXPECT_EQ(f.inner.asked, 5);
}

TEST(CachingResolver, KeepsTheDnssecFlag) {
  Fixture f;
  Answer a = txt(300);
  a.authenticated = true;
  f.inner.next = a;
  f.ask("signed.example");
  EXPECT_TRUE(f.ask("signed.example").authenticated);
}

TEST(CachingResolver, ManyThreadsAtOnce) {
  CountingResolver inner;
  inner.next = txt(300);
  CachingResolver cache(inner, CacheLimits{64, 3600, 900});
  std::atomic<int> answers{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i)
        cache.resolve(Question{"n" + std::to_string((i * 7 + t) % 100) + ".example", RecordType::txt},
                      [&](Answer a) { answers += a.status == Status::ok ? 1 : 0; });
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(answers.load(), 8000);
  EXPECT_EQ(cache.hits() + cache.misses(), 8000u);
}

}  // namespace
}  // namespace mailmoat::dns

// The filter chain's handling of verdicts (src/pipeline/chain.*): a `hold`
// does not end the chain (the filters after it still run on the message the
// queue will deliver when it is released); any other verdict does.
#include <gtest/gtest.h>

#include "pipeline/chain.h"

namespace mailmoat::pipeline {
namespace {

// Records that it ran (a header edit) and answers with `verdict`.
class Step : public Filter {
 public:
  Step(std::string name, Disposition d) : name_(std::move(name)), disposition_(d) {}
  std::string name() const override { return name_; }
  void on_message(MessageContext& ctx, Done done) override {
    ctx.edits.headers.push_back({HeaderEdit::Op::append, "X-Ran", name_});
    Verdict v;
    v.disposition = disposition_;
    v.reason = name_ + " says so";
    done(std::move(v));
  }

 private:
  std::string name_;
  Disposition disposition_;
};

std::vector<std::string> ran(const MessageContext& ctx) {
  std::vector<std::string> out;
  for (const auto& e : ctx.edits.headers) out.push_back(e.value);
  return out;
}

Verdict run_chain(const FilterChain& chain, const std::shared_ptr<MessageContext>& ctx) {
  Verdict got;
  got.reason = "never called";
  chain.run(ctx, [&got](Verdict v) { got = std::move(v); });
  return got;
}

TEST(FilterChain, AHoldLetsTheRestOfTheChainRunAndIsTheVerdict) {
  FilterChain chain;
  chain.add(std::make_shared<Step>("rules", Disposition::accept));
  chain.add(std::make_shared<Step>("attachments", Disposition::hold));
  chain.add(std::make_shared<Step>("verdict", Disposition::accept));
  chain.add(std::make_shared<Step>("signing", Disposition::accept));
  auto ctx = std::make_shared<MessageContext>();
  Verdict v = run_chain(chain, ctx);
  EXPECT_EQ(v.disposition, Disposition::hold);
  EXPECT_EQ(v.filter, "attachments");
  EXPECT_EQ(v.reason, "attachments says so");
  EXPECT_EQ(ran(*ctx), (std::vector<std::string>{"rules", "attachments", "verdict", "signing"}));
}

TEST(FilterChain, AQuarantineOrRefusalAfterAHoldWinsAndEndsTheChain) {
  for (Disposition later : {Disposition::quarantine, Disposition::reject, Disposition::tempfail}) {
    FilterChain chain;
    chain.add(std::make_shared<Step>("attachments", Disposition::hold));
    chain.add(std::make_shared<Step>("verdict", later));
    chain.add(std::make_shared<Step>("signing", Disposition::accept));
    auto ctx = std::make_shared<MessageContext>();
    Verdict v = run_chain(chain, ctx);
    EXPECT_EQ(v.disposition, later);
    EXPECT_EQ(v.filter, "verdict");
    EXPECT_EQ(ran(*ctx), (std::vector<std::string>{"attachments", "verdict"}));
  }
}

TEST(FilterChain, OtherVerdictsStillEndTheChain) {
  FilterChain chain;
  chain.add(std::make_shared<Step>("auth", Disposition::reject));
  chain.add(std::make_shared<Step>("signing", Disposition::accept));
  auto ctx = std::make_shared<MessageContext>();
  EXPECT_EQ(run_chain(chain, ctx).disposition, Disposition::reject);
  EXPECT_EQ(ran(*ctx), (std::vector<std::string>{"auth"}));
}

TEST(FilterChain, AfterGivesTheFiltersFollowingTheNamedOne) {
  FilterChain chain;
  chain.add(std::make_shared<Step>("rules", Disposition::accept));
  chain.add(std::make_shared<Step>("attachments", Disposition::hold));
  chain.add(std::make_shared<Step>("verdict", Disposition::accept));
  chain.add(std::make_shared<Step>("signing", Disposition::accept));
  auto tail = chain.after("attachments");
  ASSERT_EQ(tail->size(), 2u);
  auto ctx = std::make_shared<MessageContext>();
  EXPECT_EQ(run_chain(*tail, ctx).disposition, Disposition::accept);
  EXPECT_EQ(ran(*ctx), (std::vector<std::string>{"verdict", "signing"}));
  EXPECT_EQ(chain.after("no such filter")->size(), 0u);
}

}  // namespace
}  // namespace mailmoat::pipeline

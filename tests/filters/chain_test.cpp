// The filter chain's handling of verdicts (src/pipeline/chain.*): a `hold`
// does not end the chain (the filters after it still run on the message the
// queue will deliver when it is released); any other verdict does.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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

std::string edited(std::string message, std::vector<HeaderEdit> headers, std::optional<std::string> body = {}) {
  Edits e;
  e.headers = std::move(headers);
  e.body = std::move(body);
  // Both forms, in place and into a copy, give the same message; the copy leaves its input alone.
  const std::string original = message;
  const std::string copy = with_edits(message, e);
  EXPECT_EQ(message, original) << "with_edits changed its input";
  apply_edits(message, e);
  EXPECT_EQ(copy, message) << "with_edits and apply_edits differ";
  return message;
}

TEST(ApplyEdits, HeaderEditsKeepTheBodyAndFoldedFieldsWhole) {
  const std::string m = "Subject: hi\r\nX-Long: one\r\n two\r\n\tthree\r\nFrom: a@b\r\n\r\nbody\r\n.line\r\n";
  EXPECT_EQ(edited(m, {}), m);
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::prepend, "A", "1"}, {HeaderEdit::Op::prepend, "B", "2"}}),
            "B: 2\r\nA: 1\r\n" + m);
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::append, "X-New", "v"}}),
            "Subject: hi\r\nX-Long: one\r\n two\r\n\tthree\r\nFrom: a@b\r\nX-New: v\r\n\r\nbody\r\n.line\r\n");
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::remove, "x-long", ""}}), "Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n.line\r\n");
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::replace, "X-LONG", "short"}}),
            "Subject: hi\r\nX-LONG: short\r\nFrom: a@b\r\n\r\nbody\r\n.line\r\n");
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::replace, "To", "c@d"}}),
            "Subject: hi\r\nX-Long: one\r\n two\r\n\tthree\r\nFrom: a@b\r\nTo: c@d\r\n\r\nbody\r\n.line\r\n");
}

TEST(ApplyEdits, OnlyTheFirstOfRepeatedFieldsIsReplacedAndRemoveTakesAll) {
  const std::string m = "Received: 1\r\nReceived: 2\r\n\r\nb";
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::replace, "Received", "x"}}), "Received: x\r\nReceived: 2\r\n\r\nb");
  EXPECT_EQ(edited(m, {{HeaderEdit::Op::remove, "Received", ""}, {HeaderEdit::Op::append, "Received", "3"}}),
            "Received: 3\r\n\r\nb");
}

TEST(ApplyEdits, ANewBodyAndMessagesWithoutABody) {
  EXPECT_EQ(edited("A: 1\r\n\r\nold", {}, "new\r\n"), "A: 1\r\n\r\nnew\r\n");
  // No empty line: the header section is the whole message.
  EXPECT_EQ(edited("A: 1\r\n", {{HeaderEdit::Op::append, "B", "2"}}), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(edited("A: 1\r\n", {}, "b"), "A: 1\r\n\r\nb");
  // The last line unterminated (BDAT allows it), also inside a folded field.
  EXPECT_EQ(edited("A: 1", {{HeaderEdit::Op::append, "B", "2"}}), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(edited("A: 1\r\n more", {{HeaderEdit::Op::append, "B", "2"}}), "A: 1\r\n more\r\nB: 2\r\n");
  EXPECT_EQ(edited("A: 1\r\n more", {{HeaderEdit::Op::remove, "A", ""}}), "");
  EXPECT_EQ(edited("", {{HeaderEdit::Op::append, "B", "2"}}), "B: 2\r\n");
}

}  // namespace
}  // namespace mailmoat::pipeline

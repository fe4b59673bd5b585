// The links filter in the chain: policy on/off and internal mail, pending edits
// of earlier filters kept, wait-for-verdict quarantining a message with a
// malicious link, and bad input delivered with a note saying why.
#include "filters/links/links_filter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/chain.h"

namespace mailmoat::filters {
namespace {

const std::string kMessage =
    "From: joe@partner.example\r\nTo: sue@example.org\r\nSubject: hi\r\n\r\n"
    "Look: http://shop.example/a and https://docs.example.org/x\r\n";

LinksConfig config() {
  LinksConfig c;
  c.signer = std::make_shared<links::LinkSigner>(*links::LinkSigner::create("https://l.example", {"filter-test-key-0123456789"}));
  c.internal_domains = {"example.org"};
  return c;
}

pipeline::MessageContext context(const std::string& from, const std::string& to, const std::string& message = kMessage) {
  pipeline::MessageContext ctx;
  ctx.queue_id = "Q42";
  ctx.connection.role = "inbound";
  ctx.envelope.sender = from;
  ctx.envelope.recipients.push_back({to, "", ""});
  ctx.message = message;
  return ctx;
}

pipeline::Verdict run(LinksFilter& f, pipeline::MessageContext& ctx) {
  pipeline::Verdict out;
  f.on_message(ctx, [&](pipeline::Verdict v) { out = std::move(v); });
  return out;
}

std::string final_message(pipeline::MessageContext& ctx) {
  std::string m = ctx.message;
  pipeline::apply_edits(m, ctx.edits);
  return m;
}

TEST(LinksFilter, RewritesInboundLinksWithMessageAndRecipientTokens) {
  LinksFilter f(config());
  auto ctx = context("joe@partner.example", "sue@example.org");
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::prepend, "Authentication-Results", "gw; spf=pass"});
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  std::string out = final_message(ctx);
  EXPECT_TRUE(out.starts_with("Authentication-Results: gw; spf=pass\r\n"));  // the earlier edit survives
  EXPECT_NE(out.find("https://l.example/v1/l?u=http%3A%2F%2Fshop.example%2Fa&m=Q42&r=sue%40example.org&s="),
            std::string::npos);
  EXPECT_EQ(out.find(" http://shop.example/a"), std::string::npos);
  ASSERT_FALSE(ctx.notes.empty());
  EXPECT_EQ(ctx.notes.back().event, "links_rewritten");
  EXPECT_NE(ctx.notes.back().detail.find("2 rewritten"), std::string::npos);
}

TEST(LinksFilter, InternalMailAndDisabledPoliciesAreLeftAlone) {
  LinksFilter f(config());
  auto internal = context("ann@example.org", "sue@example.org");
  run(f, internal);
  EXPECT_EQ(final_message(internal), kMessage);
  EXPECT_EQ(internal.notes.back().detail, "internal mail (policy default)");

  auto c = config();
  c.default_policy.rewrite_internal = true;
  LinksFilter rewrite_internal(c);
  auto again = context("ann@example.org", "sue@example.org");
  run(rewrite_internal, again);
  EXPECT_NE(final_message(again), kMessage);

  c = config();
  links::LinkPolicy off;
  off.name = "vip-off";
  off.priority = 1;
  off.enabled = false;
  off.recipients = {"sue@example.org"};
  c.policies.push_back(off);
  LinksFilter with_off(c);
  auto vip = context("joe@partner.example", "sue@example.org");
  run(with_off, vip);
  EXPECT_EQ(final_message(vip), kMessage);
  EXPECT_EQ(vip.notes.back().detail, "policy vip-off is off");
}

TEST(LinksFilter, OutgoingMailKeepsItsLinks) {
  LinksFilter f(config());
  auto out = context("ann@example.org", "joe@partner.example");
  out.connection.role = "submission";
  run(f, out);
  EXPECT_EQ(final_message(out), kMessage);
  EXPECT_EQ(out.notes.back().detail, "outgoing mail");
  auto c = config();
  c.default_policy.rewrite_internal = true;
  LinksFilter internal_too(c);
  auto inside = context("ann@example.org", "sue@example.org");
  inside.connection.role = "submission";
  run(internal_too, inside);
  EXPECT_NE(final_message(inside), kMessage);  // internal mail through submission, rewrite_internal on
}

TEST(LinksFilter, DoNotRewriteListIsHonoured) {
  auto c = config();
  c.default_policy.do_not_rewrite = {"*.example.org"};
  LinksFilter f(c);
  auto ctx = context("joe@partner.example", "sue@example.org");
  run(f, ctx);
  std::string out = final_message(ctx);
  EXPECT_NE(out.find("https://docs.example.org/x"), std::string::npos);
  EXPECT_EQ(out.find(" http://shop.example/a"), std::string::npos);
}

TEST(LinksFilter, WaitForVerdictQuarantinesMaliciousLinks) {
  auto dir = std::filesystem::temp_directory_path() / ("links-filter-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "block.txt") << "shop.example\n";
  auto c = config();
  c.default_policy.wait_for_verdict = true;
  c.verdicts = std::make_shared<links::VerdictEngine>(
      links::VerdictOptions{}, std::make_shared<links::UrlListFiles>(std::vector<std::string>{(dir / "block.txt").string()}, std::chrono::seconds(60)),
      nullptr);
  LinksFilter f(c);
  auto ctx = context("joe@partner.example", "sue@example.org");
  auto v = run(f, ctx);
  EXPECT_EQ(v.disposition, pipeline::Disposition::quarantine);
  EXPECT_EQ(v.filter, "links");
  EXPECT_NE(v.reason.find("http://shop.example/a (the address is on the organization's block list; "), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("block.txt:1 shop.example)"), std::string::npos) << v.reason;
  std::filesystem::remove_all(dir);
}

TEST(LinksFilter, BadInputIsDeliveredWithAReason) {
  LinksFilter f(config());
  std::string unknown_charset = "From: a@b.example\r\nTo: sue@example.org\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
                                "http://a.example/\r\n";
  auto ctx = context("a@b.example", "sue@example.org", unknown_charset);
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_EQ(final_message(ctx), unknown_charset);
  EXPECT_EQ(ctx.notes.front().event, "links_left");
  EXPECT_NE(ctx.notes.front().detail.find("unknown charset x-klingon"), std::string::npos);

  std::string many = "From: a@b.example\r\nTo: sue@example.org\r\n\r\n";
  for (int i = 0; i < 100000; ++i) many += "http://h" + std::to_string(i) + ".example/\r\n";
  auto c = config();
  c.rewrite.max_urls = 1000;
  LinksFilter capped(c);
  auto big = context("a@b.example", "sue@example.org", many);
  EXPECT_EQ(run(capped, big).disposition, pipeline::Disposition::accept);
  std::string out = final_message(big);
  EXPECT_NE(out.find("\r\nhttp://h99999.example/\r\n"), std::string::npos);
  EXPECT_EQ(out.find("\r\nhttp://h0.example/\r\n"), std::string::npos);
  EXPECT_NE(big.notes.back().detail.find("1000 rewritten, 0 left by policy, 99000 over the cap"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::filters

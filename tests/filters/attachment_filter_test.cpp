// Policy logic of the attachments filter with a fake analyzer (the real
// sandbox and SMTP path are in tests/integration/attachments_test.cpp):
// on_timeout / on_error actions, block_at, internal mail, facts on the context.
#include <gtest/gtest.h>

#include "filters/attachments/attachment_filter.h"
#include "samples.h"

namespace mailmoat::filters {
namespace {

namespace s = test_samples;
using attachments::Analysis;
using attachments::Verdict;

pipeline::MessageContext context(const std::string& role = "inbound") {
  pipeline::MessageContext ctx;
  ctx.connection.role = role;
  ctx.envelope.recipients.push_back({"u@example.com", "", ""});
  ctx.message = s::message("hi", {{"a.bin", "application/octet-stream", "some bytes"}});
  return ctx;
}

pipeline::Verdict run(AttachmentFilter& f, pipeline::MessageContext& ctx) {
  pipeline::Verdict out;
  out.reason = "not called";
  f.on_message(ctx, [&](pipeline::Verdict v) { out = std::move(v); });
  return out;
}

AttachmentFilter make(Verdict verdict, std::string reason, AttachmentPolicy policy = {}, int* calls = nullptr) {
  AttachmentsConfig cfg;
  cfg.policies.push_back(policy);
  AttachmentServices svc;
  svc.analyze = [=](const attachments::AnalysisRequest&, std::chrono::milliseconds) {
    if (calls) ++*calls;
    Analysis a;
    a.flag(verdict, reason);
    return a;
  };
  return AttachmentFilter(cfg, std::move(svc));
}

TEST(AttachmentFilter, TimeoutAtEndOfDataHoldsThenFollowsOnTimeout) {
  // Not finished within the fast path: held (block), analysed again in the queue.
  auto blocked = make(Verdict::scan_error, "sandbox: analysis exceeded 10 ms");
  auto ctx = context();
  auto held = run(blocked, ctx);
  EXPECT_EQ(held.disposition, pipeline::Disposition::hold);
  EXPECT_TRUE(held.reason.starts_with(kPendingReason)) << held.reason;
  EXPECT_NE(ctx.notes.front().detail.find("verdict=pending"), std::string::npos) << ctx.notes.front().detail;
  EXPECT_EQ(ctx.notes.back().event, "held");
  // The rules after Safe Attachments (the chain goes on past a hold) see the attachment as pending.
  ASSERT_EQ(ctx.attachments.size(), 1u);
  EXPECT_EQ(ctx.attachments[0].verdict, "pending");
  // In the queue, with the whole budget: a timeout then follows on_timeout.
  auto again = context();
  auto v = blocked.analyse_held(again);
  EXPECT_EQ(v.disposition, pipeline::Disposition::quarantine);
  EXPECT_NE(v.reason.find("analysis exceeded"), std::string::npos) << v.reason;
  AttachmentPolicy deliver;
  deliver.block_on_timeout = false;
  auto delivered = make(Verdict::scan_error, "sandbox: analysis exceeded 10 ms", deliver);
  auto ctx2 = context();
  EXPECT_EQ(delivered.analyse_held(ctx2).disposition, pipeline::Disposition::accept);
  ASSERT_EQ(ctx2.attachments.size(), 1u);
  EXPECT_EQ(ctx2.attachments[0].verdict, "scan error");
  EXPECT_EQ(ctx2.notes.back().event, "pass");
}

TEST(AttachmentFilter, FastPathResultNeedsNoHoldAndMaliciousQuarantinesAtOnce) {
  auto clean = make(Verdict::clean, "");
  auto ctx = context();
  EXPECT_EQ(run(clean, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_NE(ctx.notes.back().detail.find("hold=none (analysis finished within the fast path of 300 ms)"),
            std::string::npos) << ctx.notes.back().detail;
  auto bad = make(Verdict::malicious, "office: auto-exec macro autoopen");
  auto ctx2 = context();
  EXPECT_EQ(run(bad, ctx2).disposition, pipeline::Disposition::quarantine);
}

TEST(AttachmentFilter, MonitorCopiesMaliciousMailThroughTheCopyService) {
  AttachmentPolicy monitor;
  monitor.action = AttachmentAction::monitor;
  monitor.copy_to = "soc@example.com";
  AttachmentsConfig cfg;
  cfg.policies.push_back(monitor);
  AttachmentServices svc;
  svc.analyze = [](const attachments::AnalysisRequest&, std::chrono::milliseconds) {
    Analysis a;
    a.flag(Verdict::malicious, "pdf: JavaScript run on open");
    return a;
  };
  std::vector<std::string> copies;
  svc.copy = [&](const pipeline::MessageContext&, const std::string& to, const std::string& reason) {
    copies.push_back(to + " " + reason);
    return std::string();
  };
  AttachmentFilter f(cfg, std::move(svc));
  auto ctx = context();
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0], "soc@example.com attachment \"a.bin\": malicious (pdf: JavaScript run on open)");
  EXPECT_EQ(ctx.notes.back().detail, "copy queued to soc@example.com");
}

TEST(AttachmentFilter, ErrorFollowsOnError) {
  AttachmentPolicy deliver;
  deliver.block_on_error = false;
  auto f = make(Verdict::scan_error, "sandbox: worker died: killed by signal 31 (SIGSYS)", deliver);
  auto ctx = context();
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  auto g = make(Verdict::scan_error, "sandbox: worker died: killed by signal 31 (SIGSYS)");
  auto ctx2 = context();
  EXPECT_EQ(run(g, ctx2).disposition, pipeline::Disposition::quarantine);
}

TEST(AttachmentFilter, SuspiciousBlocksOnlyWithBlockAtSuspicious) {
  auto f = make(Verdict::suspicious, "office: VBA macros");
  auto ctx = context();
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::quarantine);
  AttachmentsConfig cfg;
  cfg.block_suspicious = false;
  cfg.policies.push_back({});
  AttachmentServices svc;
  svc.analyze = [](const attachments::AnalysisRequest&, std::chrono::milliseconds) {
    Analysis a;
    a.flag(Verdict::suspicious, "office: VBA macros");
    return a;
  };
  AttachmentFilter lenient(cfg, std::move(svc));
  auto ctx2 = context();
  EXPECT_EQ(run(lenient, ctx2).disposition, pipeline::Disposition::accept);
}

TEST(AttachmentFilter, InternalMailIsAnalysedOnlyWhenAsked) {
  int calls = 0;
  auto f = make(Verdict::malicious, "yara: X", {}, &calls);
  auto ctx = context("submission");
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_EQ(calls, 0);
  AttachmentPolicy p;
  p.analyze_internal = true;
  auto g = make(Verdict::malicious, "yara: X", p, &calls);
  auto ctx2 = context("submission");
  EXPECT_EQ(run(g, ctx2).disposition, pipeline::Disposition::quarantine);
  EXPECT_EQ(calls, 1);
}

TEST(AttachmentFilter, SecondCopyIsAnsweredFromTheCache) {
  int calls = 0;
  auto f = make(Verdict::malicious, "yara: X", {}, &calls);
  auto a = context(), b = context();
  run(f, a);
  auto v = run(f, b);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(v.disposition, pipeline::Disposition::quarantine);
  EXPECT_NE(b.notes.front().detail.find("cache"), std::string::npos) << b.notes.front().detail;
}

TEST(AttachmentFilter, MessagesWithoutAttachmentsPassUntouched) {
  auto f = make(Verdict::malicious, "x");
  pipeline::MessageContext ctx = context();
  ctx.message = "From: a@b\r\nSubject: hi\r\n\r\nplain text\r\n";
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_TRUE(ctx.notes.empty());
}

// A message whose header section shows one text part is answered inline; any
// sign of an attachment (a name, a disposition, a non-text or multipart type,
// two Content-Type fields) goes to the analysis threads.
TEST(AttachmentFilter, MailPlainlyWithoutAttachmentsSkipsTheAnalysisThreads) {
  AttachmentsConfig cfg;
  cfg.policies.push_back(AttachmentPolicy{});
  int hops = 0;
  AttachmentServices svc;
  svc.run = [&](std::move_only_function<void()> work) {
    ++hops;
    work();
  };
  AttachmentFilter f(cfg, std::move(svc));
  auto hopped = [&](const std::string& headers) {
    pipeline::MessageContext ctx = context();
    ctx.message = "From: a@b\r\n" + headers + "Subject: hi\r\n\r\nbody\r\n";
    const int before = hops;
    EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept) << headers;
    return hops > before;
  };
  EXPECT_FALSE(hopped(""));
  EXPECT_FALSE(hopped("Content-Type: text/plain; charset=utf-8\r\n"));
  EXPECT_FALSE(hopped("Content-Type:\r\n  TEXT/html\r\n"));
  EXPECT_TRUE(hopped("Content-Type: text/plain; name=invoice.exe\r\n"));
  EXPECT_TRUE(hopped("Content-Type: text/plain;\r\n\tNAME=\"invoice.exe\"\r\n"));
  EXPECT_TRUE(hopped("Content-Type: text/plain\r\nContent-Disposition: attachment\r\n"));
  EXPECT_TRUE(hopped("Content-Type: application/pdf\r\n"));
  EXPECT_TRUE(hopped("Content-Type: text/plain\r\nContent-Type: application/zip\r\n"));
  EXPECT_TRUE(hopped("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/zip\r\n"));
  // Text in multiparts, or a line that is no field at all: nothing declares a file.
  EXPECT_FALSE(hopped("Content-Type: multipart/mixed; boundary=x\r\n"));
  EXPECT_FALSE(hopped("Broken header line\r\n"));
  // And an attachment that does hop is still found.
  pipeline::MessageContext ctx = context();
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_FALSE(ctx.attachments.empty());
}

}  // namespace
}  // namespace mailmoat::filters

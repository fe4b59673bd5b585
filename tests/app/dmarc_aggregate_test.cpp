// The DMARC aggregate recorder: results counted in memory and written as one
// row per distinct outcome with the count summed, soon after they come and
// on a clean stop.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "app/trace_wiring.h"
#include "sqlite_stores_test_base.h"
#include "store/stores.h"

namespace mailmoat::app {
namespace {

using namespace std::chrono_literals;

auth::dmarc::AggregateRecord result_from(const std::string& ip, const std::string& from, bool spf_pass) {
  auth::dmarc::AggregateRecord r;
  r.source_ip = ip;
  r.header_from = from;
  r.policy_domain = from;
  r.spf.domain = from;
  r.spf.result = spf_pass ? auth::dmarc::AuthOutcome::pass : auth::dmarc::AuthOutcome::fail;
  return r;
}

std::int64_t today() {
  return std::chrono::duration_cast<std::chrono::hours>(std::chrono::system_clock::now().time_since_epoch()).count() /
         24;
}

class DmarcAggregateTest : public SqliteStoresTest {
 protected:
  DmarcAggregateTest() : SqliteStoresTest("mm-dmarc-agg-") {}
  std::vector<store::DmarcRow> rows(const std::string& from) {
    auto r = stores_->dmarc->rows(from, today() - 1, today() + 1);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<store::DmarcRow>{};
  }
};

TEST_F(DmarcAggregateTest, IdenticalResultsBecomeOneRowWithTheirCount) {
  {
    DmarcAggregateRecorder rec(*stores_->dmarc, 10s);  // nothing is written before the stop
    for (int i = 0; i < 5; ++i) rec.record(result_from("192.0.2.1", "Example.org", true));
    rec.record(result_from("192.0.2.1", "example.org", false));
    rec.record(result_from("192.0.2.2", "example.org", true));
    EXPECT_TRUE(rows("example.org").empty());
  }  // a clean stop writes what it holds
  auto got = rows("example.org");
  ASSERT_EQ(got.size(), 3u);
  std::map<std::string, std::int64_t> counts;
  for (const auto& r : got) counts[r.source_ip + " " + r.spf_result] += r.count;
  EXPECT_EQ(counts["192.0.2.1 pass"], 5);
  EXPECT_EQ(counts["192.0.2.1 fail"], 1);
  EXPECT_EQ(counts["192.0.2.2 pass"], 1);
}

TEST_F(DmarcAggregateTest, RowsAreWrittenSoonWhileRunningAndAddUpAcrossBatches) {
  DmarcAggregateRecorder rec(*stores_->dmarc, 50ms);
  rec.record(result_from("192.0.2.1", "example.org", true));
  rec.record(result_from("192.0.2.1", "example.org", true));
  std::vector<store::DmarcRow> got;
  for (int i = 0; i < 100 && got.empty(); ++i) {
    std::this_thread::sleep_for(20ms);
    got = rows("example.org");
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].count, 2);
  rec.record(result_from("192.0.2.1", "example.org", true));
  for (int i = 0; i < 100 && got[0].count == 2; ++i) {
    std::this_thread::sleep_for(20ms);
    got = rows("example.org");
    ASSERT_EQ(got.size(), 1u);
  }
  EXPECT_EQ(got[0].count, 3);
}

}  // namespace
}  // namespace mailmoat::app

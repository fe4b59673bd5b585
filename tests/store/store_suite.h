// Base fixture of the shared store suite: each test gets a fresh, migrated
// store of its backend and a pinned clock. INSTANTIATE_BACKENDS runs a suite
// against "sqlite" and "postgresql" so a failure names its backend.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "backend_fixture.h"
#include "store/stores.h"

namespace mailmoat::store::testing {

class StoreSuite : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db = fresh_database(GetParam());
    ASSERT_FALSE(db.url.empty());
    auto s = open(db.url, db.data_dir, clock);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    stores = std::move(*s);
  }
  void TearDown() override {
    stores.reset();
    std::error_code ec;
    if (!db.data_dir.empty()) std::filesystem::remove_all(db.data_dir, ec);
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(1'790'000'000'000'000);
  FreshDatabase db;
  std::unique_ptr<Stores> stores;
};

#define INSTANTIATE_BACKENDS(Suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgresql"), \
                           [](const auto& info) { return info.param; })

}  // namespace mailmoat::store::testing

// A test fixture with the gateway's stores on SQLite in a directory of the
// test's own, removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/stores.h"

namespace mailmoat::app {

class SqliteStoresTest : public ::testing::Test {
 protected:
  explicit SqliteStoresTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (prefix_ + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::open("sqlite:" + (dir_ / "t.db").string(), dir_.string());
    ASSERT_TRUE(s) << s.error().message;
    stores_ = std::move(*s);
  }
  void TearDown() override {
    stores_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string prefix_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Stores> stores_;
};

}  // namespace mailmoat::app

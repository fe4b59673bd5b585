#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>

#include "util/errno_message.h"
#include "util/lookup.h"

namespace mailmoat::util {

TEST(ErrnoMessage, GivesTheCLibraryTextForKnownAndUnknownValues) {
  EXPECT_EQ(errno_message(ENOENT), "No such file or directory");
  EXPECT_EQ(errno_message(ENOSPC), "No space left on device");
  EXPECT_EQ(errno_message(123456), "Unknown error 123456");
}

TEST(Lookup, FoundIsNullForAnErrorAndForNothingFound) {
  Result<std::optional<std::string>> failed = fail("store down");
  Result<std::optional<std::string>> absent = std::optional<std::string>{};
  Result<std::optional<std::string>> present = std::optional<std::string>{"value"};
  EXPECT_EQ(found(failed), nullptr);
  EXPECT_EQ(found(absent), nullptr);
  ASSERT_NE(found(present), nullptr);
  EXPECT_EQ(*found(present), "value");
}

}  // namespace mailmoat::util

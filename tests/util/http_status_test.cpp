#include "util/http_status.h"

#include <gtest/gtest.h>

namespace mailmoat::util {
namespace {

TEST(HttpStatusCode, ReadsTheThreeDigitsAfterTheVersion) {
  EXPECT_EQ(http_status_code("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(http_status_code("HTTP/1.0 404 Not Found"), 404);
  EXPECT_EQ(http_status_code("HTTP/2 302 "), 302);
}

TEST(HttpStatusCode, AnythingElseIsNotAStatusLine) {
  EXPECT_EQ(http_status_code(""), std::nullopt);
  EXPECT_EQ(http_status_code("SSH-2.0-OpenSSH"), std::nullopt);
  EXPECT_EQ(http_status_code("HTTP/1.1"), std::nullopt);
  EXPECT_EQ(http_status_code("HTTP/1.1 20"), std::nullopt);
  EXPECT_EQ(http_status_code("HTTP/1.1 2x0 OK"), std::nullopt);
  EXPECT_EQ(http_status_code("HTTP/1.1 099 Low"), std::nullopt);
  EXPECT_EQ(http_status_code("HTTP/1.1 -20 OK"), std::nullopt);
}

}  // namespace
}  // namespace mailmoat::util

// The harness itself: a ThreadSanitizer report in the gateway's stderr fails
// the test that started it (make test-tsan relies on it, docs/hardening.md).
// A stand-in "gateway" script writes the ready file and such a report.
#include <sys/stat.h>

#include <cstdlib>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "harness.h"

namespace mailmoat::testing {
namespace {

// Points binary_path() at `script` for the life of the object.
class FakeBinary {
 public:
  FakeBinary(const TempDir& dir, const std::string& script) : path_(dir.file("fake-gateway")) {
    dir.write("fake-gateway", script);
    ::chmod(path_.c_str(), 0755);
    const char* old = std::getenv("MAILMOAT_BINARY");
    if (old) old_ = old;
    ::setenv("MAILMOAT_BINARY", path_.c_str(), 1);
  }
  ~FakeBinary() {
    if (old_) ::setenv("MAILMOAT_BINARY", old_->c_str(), 1);
    else ::unsetenv("MAILMOAT_BINARY");
  }

 private:
  std::string path_;
  std::optional<std::string> old_;
};

// argv: serve --ready-file PATH ...; the report goes to stderr before ready.
std::string fake_gateway(const std::string& stderr_text) {
  return "#!/bin/sh\nprintf '%s\\n' '" + stderr_text + "' >&2\necho '{\"http\":\"127.0.0.1:1\"}' > \"$3\"\nexec sleep 60\n";
}

}  // namespace

TEST(Harness, ThreadSanitizerReportInTheGatewayFailsTheTest) {
  TempDir dir;
  FakeBinary fake(dir, fake_gateway("WARNING: ThreadSanitizer: data race (pid=1)"));
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_NONFATAL_FAILURE(gw.stop(), "ThreadSanitizer: data race");
}

TEST(Harness, ReportIsSeenAfterKill9Too) {
  TempDir dir;
  FakeBinary fake(dir, fake_gateway("WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock)"));
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_NONFATAL_FAILURE(gw.kill9(), "lock-order-inversion");
}

TEST(Harness, CleanGatewayStderrFailsNothing) {
  TempDir dir;
  FakeBinary fake(dir, fake_gateway("mailmoat: listening"));
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  gw.stop();  // any failure it added would fail this test
}

}  // namespace mailmoat::testing

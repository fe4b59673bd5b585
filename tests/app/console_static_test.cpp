// The console's static files: only files inside the directory, never through
// dot segments, escapes or symlinks out of it; the session cookie is found
// among others.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/accounts.h"
#include "app/console_static.h"

namespace mailmoat::app {
namespace {

namespace fs = std::filesystem;

TEST(ConsoleStatic, ServesOnlyFilesInsideTheDirectory) {
  const fs::path root = fs::temp_directory_path() / ("mm-console-" + std::to_string(::getpid()));
  fs::create_directories(root / "console" / "assets");
  std::ofstream(root / "console" / "index.html") << "<!doctype html>";
  std::ofstream(root / "console" / "assets" / "app.js") << "1";
  std::ofstream(root / "secret.txt") << "secret";
  fs::create_symlink(root / "secret.txt", root / "console" / "assets" / "link.js");
  const std::string dir = (root / "console").string();

  EXPECT_TRUE(console_file(dir, "index.html"));
  EXPECT_TRUE(console_file(dir, "assets/app.js"));
  for (std::string_view bad : {"../secret.txt", "assets/../../secret.txt", "assets/%2e%2e/x", ".hidden", "assets/.x",
                               "assets//app.js", "/etc/passwd", "assets\\app.js", "assets/link.js", "missing.js", "assets"})
    EXPECT_FALSE(console_file(dir, bad)) << bad;
  EXPECT_FALSE(console_file("", "index.html"));
  fs::remove_all(root);
}

TEST(ConsoleStatic, FindsTheSessionCookieAmongOthers) {
  http::Request r;
  r.headers = {{"cookie", "theme=dark; mailmoat_session=abc123 ; other=1"}};
  EXPECT_EQ(session_cookie(r), "abc123");
  r.headers = {{"Cookie", "xmailmoat_session=nope"}};
  EXPECT_EQ(session_cookie(r), "");
  r.headers = {};
  EXPECT_EQ(session_cookie(r), "");
}

}  // namespace
}  // namespace mailmoat::app

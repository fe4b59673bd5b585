// Runs an interop peer (dkimpy, Mail::DKIM, openssl) as a child process for
// the DKIM and ARC interop tests, and owns a scratch directory for its files.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace mailmoat::testing {

struct PeerRun {
  int status = -1;
  std::string out;
};

inline PeerRun run_peer(const std::string& command) {
  PeerRun r;
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = pclose(p);
  return r;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailmoat-interop-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
    return file(name);
  }

 private:
  std::string path_;
};

inline std::string peer_script(const std::string& name) {
  return std::string(MAILMOAT_SOURCE_DIR) + "/tests/auth/dkim/peers/" + name;
}

}  // namespace mailmoat::testing

#include "app/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "log/log.h"
#include "util/errno_message.h"
#include "util/host_port.h"

namespace mailmoat::app {
namespace fs = std::filesystem;

namespace {

struct UserIds {
  uid_t uid;
  gid_t gid;
};

// getpwnam_r rather than getpwnam: serve already runs other threads when it looks the user up,
// and getpwnam's static result is shared by all of them.
std::optional<UserIds> find_user(const std::string& name) {
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1U << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 || found == nullptr) return std::nullopt;
  return UserIds{pw.pw_uid, pw.pw_gid};
}

bool loopback_address(const std::string& address) {
  if (address.starts_with("unix:")) return true;  // a socket file: local by construction
  auto hp = util::parse_host_port(address);
  if (!hp) return false;
  return hp->host == "::1" || hp->host == "localhost" || hp->host.starts_with("127.");
}

// Every address serve will listen on, with the key that sets it.
std::vector<std::pair<std::string, std::string>> listen_addresses(const Config& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(cfg.smtp.listeners.size() + cfg.milter.listeners.size() + 1);
  for (std::size_t i = 0; i < cfg.smtp.listeners.size(); ++i)
    out.emplace_back("smtp.listener[" + std::to_string(i) + "].address", cfg.smtp.listeners[i].address);
  for (std::size_t i = 0; i < cfg.milter.listeners.size(); ++i)
    out.emplace_back("milter.listener[" + std::to_string(i) + "].address", cfg.milter.listeners[i].address);
  out.emplace_back("http.listen", cfg.http.listen);
  return out;
}

std::string errno_text() { return util::errno_message(errno); }

// The data directory and everything in it (spool, SQLite files, mailboxes,
// keys serve created) change owner; nothing outside it is touched.
util::Result<void> hand_over(const fs::path& dir, uid_t uid, gid_t gid) {
  std::error_code ec;
  if (::lchown(dir.c_str(), uid, gid) != 0) return util::fail("chown " + dir.string() + ": " + errno_text());
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0)
      return util::fail("chown " + it->path().string() + ": " + errno_text());
  }
  if (ec) return util::fail("walking " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace

util::Result<void> check_run_as(const Config& cfg) {
  if (!cfg.server.user.empty() && !find_user(cfg.server.user))
    return util::fail("server.user: no such user '" + cfg.server.user + "'");
  if (::geteuid() != 0 || !cfg.server.user.empty()) return {};
  for (const auto& [key, address] : listen_addresses(cfg))
    if (!loopback_address(address))
      return util::fail("refusing to run as root with " + key + " = " + address +
                        " reachable beyond loopback: set server.user to an unprivileged account "
                        "(serve binds its ports as root, then becomes that user)");
  return {};
}

void raise_open_file_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const rlim_t before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) == 0)
    log::info("serve.open_files_limit", {{"from", static_cast<unsigned long long>(before)},
                                         {"to", static_cast<unsigned long long>(rl.rlim_cur)}});
}

util::Result<void> drop_privileges(const Config& cfg) {
  if (::geteuid() != 0) {
    if (!cfg.server.user.empty())
      log::info("serve.user_ignored", {{"user", cfg.server.user}, {"reason", "not started as root"}});
    return {};
  }
  if (cfg.server.user.empty()) {
    log::warn("serve.running_as_root",
              {{"reason", "every listener is on loopback and server.user is not set; set it for production"}});
    return {};
  }
  const auto ids = find_user(cfg.server.user);
  if (!ids) return util::fail("server.user: no such user '" + cfg.server.user + "'");
  const uid_t uid = ids->uid;
  const gid_t gid = ids->gid;
  if (uid == 0) return util::fail("server.user '" + cfg.server.user + "' is root");
  if (auto handed = hand_over(cfg.server.data_dir, uid, gid); !handed) return handed;
  if (::initgroups(cfg.server.user.c_str(), gid) != 0) return util::fail("initgroups: " + errno_text());
  // glibc applies setgid/setuid to every thread of the process.
  if (::setgid(gid) != 0) return util::fail("setgid: " + errno_text());
  if (::setuid(uid) != 0) return util::fail("setuid: " + errno_text());
  if (::setuid(0) == 0 || ::geteuid() == 0) return util::fail("root privileges could be regained after setuid");
  log::info("serve.privileges_dropped", {{"user", cfg.server.user}, {"uid", static_cast<long long>(uid)},
                                         {"gid", static_cast<long long>(gid)}});
  return {};
}

}  // namespace mailmoat::app

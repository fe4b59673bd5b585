#include "pg_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "store/postgres/connection.h"
#include "store/url.h"

namespace mailmoat::store::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

std::string as_postgres(const std::string& cmd) { return "runuser -u postgres -- " + cmd; }

}  // namespace

int run(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

PgServer::~PgServer() { destroy(); }

std::string PgServer::start(bool durable) {
  durable_ = durable;
  char tmpl[] = "/tmp/mailmoat-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) return "mkdtemp failed";
  dir_ = tmpl;
  port_ = free_port();
  if (run("chown postgres " + dir_) != 0) return "chown failed";
  if (run(as_postgres(kBin + "initdb -D " + dir_ + "/data -A trust -U mailmoat -E UTF8 --locale=C.UTF-8 >" + dir_ +
                      "/initdb.log 2>&1")) != 0)
    return "initdb failed, see " + dir_ + "/initdb.log";
  return restart();
}

std::string PgServer::restart() {
  std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1";
  if (!durable_) opts += " -c fsync=off -c full_page_writes=off";
  if (run(as_postgres(kBin + "pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -w -t 60 -o \"" + opts +
                      "\" start >/dev/null 2>&1")) != 0)
    return "pg_ctl start failed, see " + dir_ + "/log";
  running_ = true;
  return "";
}

std::string PgServer::stop() {
  if (!running_) return "";
  running_ = false;
  if (run(as_postgres(kBin + "pg_ctl -D " + dir_ + "/data -m fast -w stop >/dev/null 2>&1")) != 0)
    return "pg_ctl stop failed";
  return "";
}

void PgServer::destroy() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PgServer::url(const std::string& database) const {
  return "postgresql://mailmoat@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string create_database(const std::string& server_url) {
  auto parsed = parse_store_url(server_url, "");
  if (!parsed) return "";
  auto conn = postgres::connect(*parsed);
  if (!conn) return "";
  static std::atomic<int> counter{0};
  std::mt19937_64 rng(std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()));
  std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                     std::to_string(rng() % 1000000);
  if (!(*conn)->exec_script("CREATE DATABASE " + name)) return "";
  parsed->database = name;
  auto slash = server_url.rfind('/');
  return server_url.substr(0, slash + 1) + name;
}

}  // namespace mailmoat::store::testing

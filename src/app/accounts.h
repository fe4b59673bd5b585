// User accounts and browser sessions of the admin console (issue 10,
// "Authentication"; issue 12). Passwords are kept only as argon2id hashes
// (libsodium crypto_pwhash_str, moderate limits); sessions are random 256-bit
// ids kept only as SHA-256 hashes, each with its own CSRF token, an idle and
// an absolute expiry. Both live in the shared store's settings (keys "user/"
// and "session/"), so every node sharing the store honours them on both
// backends. Failed sign-ins are counted per account and per client address
// in this process (see docs/console.md for why not in the store).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/api_auth.h"
#include "util/error.h"

namespace mailmoat::store {
class Settings;
class Clock;
}  // namespace mailmoat::store

namespace mailmoat::app {

struct UserInfo {
  std::string name;
  Role role = Role::viewer;
  long long created_at = 0;  // microseconds since the epoch
  std::string created_by;
  long long password_changed_at = 0;
};

struct Session {
  std::string user;
  Role role = Role::viewer;
  std::string csrf;          // sent by the console in X-CSRF-Token
  long long created_at = 0;  // microseconds
  long long last_seen = 0;
  long long expires_at = 0;  // the earlier of idle and absolute expiry
};

// Sliding-window failure counter: `limit` failures within `window` lock the key
// until the oldest of them leaves the window.
class FailureLimiter {
 public:
  FailureLimiter(std::size_t limit, std::chrono::seconds window) : limit_(limit), window_(window) {}
  // Seconds until `key` may try again; 0 when it may try now.
  long long retry_after(const std::string& key, long long now_us);
  void fail(const std::string& key, long long now_us);
  void clear(const std::string& key);

 private:
  void prune(std::deque<long long>& times, long long now_us) const;
  std::size_t limit_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, std::deque<long long>> failures_;
};

class Accounts {
 public:
  // `session_minutes`: both the idle timeout and the absolute lifetime.
  Accounts(store::Settings& settings, const store::Clock& clock, long long session_minutes);

  util::Result<void> create_user(const std::string& name, Role role, const std::string& password,
                                 const std::string& created_by);
  util::Result<void> set_password(const std::string& name, const std::string& password);
  // Deletes the account and every session it has.
  util::Result<void> delete_user(const std::string& name);
  util::Result<std::vector<UserInfo>> users() const;

  // The account's role when the password is right. Runs a full hash even for
  // an unknown name, so timing does not tell which names exist.
  std::optional<Role> verify(const std::string& name, const std::string& password) const;

  // A new session: returns its id in clear (only the cookie holds it) and the session.
  util::Result<std::pair<std::string, Session>> open_session(const std::string& user, Role role);
  // The live session for a presented id (refreshing its idle expiry), or nothing.
  std::optional<Session> find_session(const std::string& id);
  void close_session(const std::string& id);
  // Drops expired sessions; returns how many.
  std::size_t purge_sessions();

  long long session_minutes() const { return session_minutes_; }
  FailureLimiter& limiter_by_user() { return by_user_; }
  FailureLimiter& limiter_by_address() { return by_address_; }
  long long now() const;

 private:
  util::Result<std::optional<std::string>> user_record(const std::string& name) const;
  util::Result<void> delete_sessions_of(const std::string& name);
  store::Settings& settings_;
  const store::Clock& clock_;
  long long session_minutes_;
  std::string dummy_hash_;  // verified against for unknown names
  FailureLimiter by_user_{5, std::chrono::minutes(15)};
  FailureLimiter by_address_{5, std::chrono::minutes(15)};
};

// The value of the mailmoat_session cookie, or "".
std::string session_cookie(const http::Request& request);
inline constexpr std::string_view kSessionCookie = "mailmoat_session";

// Account names: 1-64 letters, digits, '-', '_', '.', '@'.
bool valid_user_name(std::string_view name);
// Passwords: 10 to 1024 bytes.
std::optional<std::string> password_problem(std::string_view password);

}  // namespace mailmoat::app

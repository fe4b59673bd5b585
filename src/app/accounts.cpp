#include "app/accounts.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "log/log.h"
#include "store/stores.h"
#include "util/cookie.h"
#include "util/lookup.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

constexpr std::string_view kUserPrefix = "user/";
constexpr std::string_view kSessionPrefix = "session/";
constexpr long long kMicrosPerMinute = 60'000'000;
// A session's idle expiry is written back at most this often, so reading
// pages does not turn into a store write per request.
constexpr long long kTouchInterval = 60'000'000;

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  return hex(raw.data(), raw.size());
}

std::string session_key(const std::string& id) {
  unsigned char md[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(md, reinterpret_cast<const unsigned char*>(id.data()), id.size());
  return std::string(kSessionPrefix) + hex(md, sizeof md);
}

util::Result<std::string> hash_password(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MODERATE,
                        crypto_pwhash_MEMLIMIT_MODERATE) != 0)
    return util::fail("cannot hash the password (out of memory)");
  return std::string(out);
}

std::optional<Session> parse_session(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto role = parse_role(j.value("role", ""));
  if (!role) return std::nullopt;
  Session s;
  s.user = j.value("user", "");
  s.role = *role;
  s.csrf = j.value("csrf", "");
  s.created_at = j.value("created_at", 0ll);
  s.last_seen = j.value("last_seen", 0ll);
  return s;
}

std::string session_json(const Session& s) {
  return nlohmann::json{{"user", s.user},
                        {"role", std::string(to_string(s.role))},
                        {"csrf", s.csrf},
                        {"created_at", s.created_at},
                        {"last_seen", s.last_seen}}
      .dump();
}

}  // namespace

std::string session_cookie(const http::Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (!util::iequals(name, "Cookie")) continue;
    if (auto v = util::cookie_value(value, kSessionCookie)) return std::string(*v);
  }
  return {};
}

bool valid_user_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@') return false;
  return true;
}

std::optional<std::string> password_problem(std::string_view p) {
  if (p.size() < 10) return "a password has at least 10 characters";
  if (p.size() > 1024) return "a password has at most 1024 bytes";
  return std::nullopt;
}

void FailureLimiter::prune(std::deque<long long>& times, long long now_us) const {
  const long long window = std::chrono::duration_cast<std::chrono::microseconds>(window_).count();
  while (!times.empty() && times.front() + window <= now_us) times.pop_front();
}

long long FailureLimiter::retry_after(const std::string& key, long long now_us) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  prune(it->second, now_us);
  if (it->second.empty()) {
    failures_.erase(it);
    return 0;
  }
  if (it->second.size() < limit_) return 0;
  const long long window = std::chrono::duration_cast<std::chrono::microseconds>(window_).count();
  long long wait_us = it->second.front() + window - now_us;
  return std::max(1ll, (wait_us + 999'999) / 1'000'000);
}

void FailureLimiter::fail(const std::string& key, long long now_us) {
  std::lock_guard lock(mutex_);
  auto& times = failures_[key];
  prune(times, now_us);
  times.push_back(now_us);
  // Bounded memory: a key never holds more entries than it needs to stay locked.
  while (times.size() > limit_) times.pop_front();
  // Bounded key count: an address sweep cannot grow this without limit.
  if (failures_.size() > 100'000) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, now_us);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
}

void FailureLimiter::clear(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

Accounts::Accounts(store::Settings& settings, const store::Clock& clock, long long session_minutes)
    : settings_(settings), clock_(clock), session_minutes_(session_minutes) {
  if (sodium_init() < 0) log::error("accounts.sodium_init_failed", {});
  // A hash of a random password with the same limits: verifying an unknown
  // name costs what verifying a known one does.
  if (auto h = hash_password(random_hex(16))) dummy_hash_ = *h;
}

long long Accounts::now() const { return clock_.now(); }

util::Result<std::optional<std::string>> Accounts::user_record(const std::string& name) const {
  return settings_.get(std::string(kUserPrefix) + name);
}

util::Result<void> Accounts::create_user(const std::string& name, Role role, const std::string& password,
                                         const std::string& created_by) {
  if (!valid_user_name(name)) return util::fail("a user name is 1-64 letters, digits, '-', '_', '.' or '@'");
  if (auto p = password_problem(password)) return util::fail(*p);
  auto existing = user_record(name);
  if (!existing) return util::fail(existing.error().message);
  if (*existing) return util::fail("a user named \"" + name + "\" exists");
  auto hash = hash_password(password);
  if (!hash) return util::fail(hash.error().message);
  const long long t = now();
  nlohmann::json j{{"name", name}, {"role", std::string(to_string(role))}, {"hash", *hash},
                   {"created_at", t}, {"created_by", created_by}, {"password_changed_at", t}};
  return settings_.set(std::string(kUserPrefix) + name, j.dump());
}

util::Result<void> Accounts::set_password(const std::string& name, const std::string& password) {
  if (auto p = password_problem(password)) return util::fail(*p);
  auto existing = user_record(name);
  if (!existing) return util::fail(existing.error().message);
  const std::string* record = util::found(existing);
  if (!record) return util::fail("no user named \"" + name + "\"");
  auto j = nlohmann::json::parse(*record, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return util::fail("the record of user \"" + name + "\" is damaged");
  auto hash = hash_password(password);
  if (!hash) return util::fail(hash.error().message);
  j["hash"] = *hash;
  j["password_changed_at"] = now();
  if (auto r = settings_.set(std::string(kUserPrefix) + name, j.dump()); !r) return r;
  // A new password ends every session opened with the old one.
  return delete_sessions_of(name);
}

util::Result<void> Accounts::delete_user(const std::string& name) {
  auto existing = user_record(name);
  if (!existing) return util::fail(existing.error().message);
  if (!*existing) return util::fail("no user named \"" + name + "\"");
  if (auto r = settings_.erase(std::string(kUserPrefix) + name); !r) return r;
  return delete_sessions_of(name);
}

util::Result<void> Accounts::delete_sessions_of(const std::string& name) {
  auto all = settings_.all();
  if (!all) return util::fail(all.error().message);
  for (const auto& [key, value] : *all) {
    if (!key.starts_with(kSessionPrefix)) continue;
    auto s = parse_session(value);
    if (!s || s->user == name)
      if (auto r = settings_.erase(key); !r) return r;
  }
  return {};
}

util::Result<std::vector<UserInfo>> Accounts::users() const {
  auto all = settings_.all();
  if (!all) return util::fail(all.error().message);
  std::vector<UserInfo> out;
  for (const auto& [key, value] : *all) {
    if (!key.starts_with(kUserPrefix)) continue;
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    UserInfo u;
    u.name = j.value("name", "");
    u.role = parse_role(j.value("role", "")).value_or(Role::viewer);
    u.created_at = j.value("created_at", 0ll);
    u.created_by = j.value("created_by", "");
    u.password_changed_at = j.value("password_changed_at", 0ll);
    out.push_back(std::move(u));
  }
  return out;
}

std::optional<Role> Accounts::verify(const std::string& name, const std::string& password) const {
  std::string hash = dummy_hash_;
  std::optional<Role> role;
  if (valid_user_name(name)) {
    auto rec = user_record(name);
    if (const std::string* record = util::found(rec)) {
      auto j = nlohmann::json::parse(*record, nullptr, false);
      if (!j.is_discarded() && j.is_object()) {
        role = parse_role(j.value("role", ""));
        if (role) hash = j.value("hash", dummy_hash_);
      }
    }
  }
  if (hash.empty() || password.size() > 1024) return std::nullopt;
  if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) != 0) return std::nullopt;
  return role;
}

util::Result<std::pair<std::string, Session>> Accounts::open_session(const std::string& user, Role role) {
  purge_sessions();
  Session s;
  s.user = user;
  s.role = role;
  s.csrf = random_hex(32);
  s.created_at = s.last_seen = now();
  s.expires_at = s.created_at + session_minutes_ * kMicrosPerMinute;
  std::string id = random_hex(32);  // 256 bits
  if (auto r = settings_.set(session_key(id), session_json(s)); !r) return util::fail(r.error().message);
  return std::pair{id, s};
}

std::optional<Session> Accounts::find_session(const std::string& id) {
  if (id.size() != 64) return std::nullopt;
  const std::string key = session_key(id);
  auto stored = settings_.get(key);
  const std::string* text = util::found(stored);
  if (!text) return std::nullopt;
  auto s = parse_session(*text);
  if (!s) return std::nullopt;
  const long long t = now();
  const long long life = session_minutes_ * kMicrosPerMinute;
  if (t >= s->created_at + life || t >= s->last_seen + life) {
    (void)settings_.erase(key);
    return std::nullopt;
  }
  // The account may have been deleted or changed role since sign-in: the
  // account record, not the session, decides.
  auto rec = user_record(s->user);
  const std::string* record = util::found(rec);
  if (!record) {
    (void)settings_.erase(key);
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*record, nullptr, false);
  auto role = j.is_object() ? parse_role(j.value("role", "")) : std::nullopt;
  if (!role) return std::nullopt;
  s->role = *role;
  if (t - s->last_seen >= kTouchInterval) {
    s->last_seen = t;
    (void)settings_.set(key, session_json(*s));
  }
  s->expires_at = std::min(s->created_at + life, s->last_seen + life);
  return s;
}

void Accounts::close_session(const std::string& id) {
  if (id.size() == 64) (void)settings_.erase(session_key(id));
}

std::size_t Accounts::purge_sessions() {
  auto all = settings_.all();
  if (!all) return 0;
  const long long t = now();
  const long long life = session_minutes_ * kMicrosPerMinute;
  std::size_t n = 0;
  for (const auto& [key, value] : *all) {
    if (!key.starts_with(kSessionPrefix)) continue;
    auto s = parse_session(value);
    if (!s || t >= s->created_at + life || t >= s->last_seen + life) {
      if (settings_.erase(key)) ++n;
    }
  }
  return n;
}

}  // namespace mailmoat::app

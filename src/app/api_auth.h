// Who may call the admin API, and what they may do. Two kinds of credential:
// the bootstrap token in the data directory (admin.token, mode 0600: whoever
// can read it is root on this node), and API tokens created with
// `mailmoat admin token create --role admin|viewer`, shown once and kept only
// as SHA-256 hashes in the shared store's settings (so every node sharing the
// store accepts them; a 256-bit random token needs no slow hash). Viewers read;
// admins act. Browser-originated cross-site requests are refused outright.
// With user accounts (app/accounts.h) a console session cookie is a third
// credential; state-changing requests made with it must carry its CSRF token.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "http/router.h"
#include "util/error.h"

namespace mailmoat::store {
class Settings;
class AuditLog;
}

namespace mailmoat::app {

class Accounts;

enum class Role { viewer, admin };
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

struct Principal {
  std::string name;  // recorded as the actor in the audit log
  Role role = Role::viewer;
};

struct TokenInfo {
  std::string name;
  Role role = Role::viewer;
  long long created_at = 0;  // microseconds since the epoch
  std::string created_by;
};

class ApiAuth {
 public:
  ApiAuth(std::string bootstrap_token, store::Settings& settings, store::AuditLog& audit);

  // The caller, or the response to send instead (401, 403).
  std::variant<Principal, http::Response> check(const http::Request& request, Role needed) const;

  // Returns the token in clear (the only time it exists outside the caller).
  util::Result<std::string> create(const std::string& name, Role role, const std::string& created_by);
  util::Result<std::vector<TokenInfo>> list() const;
  util::Result<void> revoke(const std::string& name);
  // Accept console sessions of these accounts besides bearer tokens.
  void use_accounts(Accounts& accounts) { accounts_ = &accounts; }
  // Appends to the audit log (failures are logged, never block the action).
  void audit(const Principal& who, const std::string& action, const std::string& target,
             const std::string& detail = {}) const;

 private:
  std::optional<Principal> identify(const std::string& presented) const;
  std::variant<Principal, http::Response> check_session(const http::Request& request, Role needed) const;
  std::string bootstrap_;
  Accounts* accounts_ = nullptr;
  store::Settings& settings_;
  store::AuditLog& audit_;
};

// True for a browser request sent from another site (Sec-Fetch-Site, Origin).
bool cross_site_request(const http::Request& request);

// A handler that runs only for a caller with `needed` (else 401/403).
using GuardedHandler = std::function<http::Response(const http::Request&, const Principal&)>;
http::Handler guarded(const ApiAuth& auth, Role needed, GuardedHandler handler);

// Routes: GET /api/v1/tokens (admin), POST /api/v1/tokens {"name","role"} (admin),
// POST /api/v1/tokens/NAME/revoke (admin).
void add_token_routes(http::Router& router, ApiAuth& auth);

}  // namespace mailmoat::app

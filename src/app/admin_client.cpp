#include "app/admin_client.h"

#include <filesystem>
#include <fstream>

#include "app/config.h"
#include "http/client.h"

namespace mailmoat::app {

util::Result<nlohmann::json> admin_call(const std::string& config_path, const std::vector<std::string>& overrides,
                                        const std::string& method, const std::string& target, const std::string& body) {
  LoadResult cfg = load_config(config_path, overrides);
  if (!cfg.ok()) return util::fail(cfg.errors.front().to_string());
  std::ifstream token_file(std::filesystem::path(cfg.config.server.data_dir) / "admin.token");
  std::string token;
  if (!token_file || !std::getline(token_file, token))
    return util::fail("cannot read " + cfg.config.server.data_dir +
                      "/admin.token (is this the gateway's data directory?)");
  auto r = http::request(cfg.config.http.listen, method, target, body, {"Authorization: Bearer " + token});
  if (!r) return util::fail(r.error().message);
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200)
    return util::fail(!j.is_discarded() && j.contains("error") ? j["error"].get<std::string>()
                                                               : "HTTP " + std::to_string(r->status));
  if (j.is_discarded()) return util::fail("the gateway answered something that is not JSON");
  return j;
}

}  // namespace mailmoat::app

// docs/openapi.json against the live gateway: every documented operation
// exists (the router never answers its generic 404/405), answers one of its
// documented status codes with the admin token, 401 without a token (unless
// public), and 403 to a viewer when it is documented as an admin action.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "harness.h"

namespace mailmoat::testing {

namespace {

std::string target_of(const std::string& path, const nlohmann::json& operation) {
  std::string t = path;
  for (const auto& p : operation.value("parameters", nlohmann::json::array())) {
    if (p["in"] != "path") continue;
    std::string example = p["example"].is_string() ? p["example"].get<std::string>() : p["example"].dump();
    auto pos = t.find("{" + p["name"].get<std::string>() + "}");
    if (pos != std::string::npos) t.replace(pos, p["name"].get<std::string>().size() + 2, example);
  }
  return t;
}

}  // namespace

TEST(OpenApi, EveryDocumentedOperationIsLiveAndAnswersAsDocumented) {
  std::ifstream in(std::string(MAILMOAT_SOURCE_DIR) + "/docs/openapi.json");
  auto doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "docs/openapi.json is not JSON";
  ASSERT_EQ(doc["openapi"], "3.0.3");
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  std::ifstream token_file(gw.data_dir() + "/var/admin.token");
  std::string admin;
  std::getline(token_file, admin);
  auto made = http_request(gw.http_address(), "POST", "/api/v1/tokens", R"({"name":"viewer","role":"viewer"})",
                           {"Authorization: Bearer " + admin});
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string viewer = nlohmann::json::parse(made.body)["token"];

  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method_lower, operation] : item.items()) {
      std::string method = method_lower;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string target = target_of(path, operation);
      std::string body;
      if (operation.contains("requestBody"))
        body = operation["requestBody"]["content"]["application/json"]["example"].dump();
      SCOPED_TRACE(method + " " + target);
      ++operations;
      auto r = http_request(gw.http_address(), method, target, body, {"Authorization: Bearer " + admin});
      EXPECT_NE(r.body, R"({"error":"not found"})") << "route is not served";
      EXPECT_NE(r.body, R"({"error":"method not allowed"})") << "method is not served";
      EXPECT_TRUE(operation["responses"].contains(std::to_string(r.status))) << r.status << " " << r.body;
      const bool is_public = operation.contains("security") && operation["security"].empty();
      if (is_public) continue;
      EXPECT_EQ(http_request(gw.http_address(), method, target, body).status, 401);
      if (operation.value("x-mailmoat-role", "") == "admin") {
        EXPECT_EQ(http_request(gw.http_address(), method, target, body, {"Authorization: Bearer " + viewer}).status,
                  403);
      }
    }
  }
  EXPECT_GE(operations, 18);
}

}  // namespace mailmoat::testing

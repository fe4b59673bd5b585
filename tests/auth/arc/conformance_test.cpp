// The ValiMail ARC suite (../shared/conformance/arc, see SOURCES.md), one
// ctest case per test id: 171 validation tests (expected cv; an empty cv
// counts as fail) and 17 signing tests (the AAR, AMS and AS mailmoat adds,
// compared as sets of tag=value items with all white space removed, the way
// the upstream runner compares them).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "auth/arc/sealer.h"
#include "auth/arc/verifier.h"
#include "dkim/fake_resolver.h"
#include "mail/message.h"
#include "util/strings.h"

namespace mailmoat::auth::arc {
namespace {

const nlohmann::json& suite() {
  static nlohmann::json j = [] {
    std::ifstream in(ARC_SUITE_JSON);
    return nlohmann::json::parse(in);
  }();
  return j;
}

struct Case {
  std::size_t scenario;
  std::string id;
};

std::vector<Case> cases(const char* kind) {
  std::vector<Case> out;
  const auto& scenarios = suite()[kind];
  for (std::size_t s = 0; s < scenarios.size(); ++s)
    for (const auto& [id, _] : scenarios[s]["tests"].items()) out.push_back({s, id});
  return out;
}

std::string sanitize(std::string id) {
  for (char& c : id)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return id;
}

std::string crlf(const std::string& text) { return mail::normalize_line_endings(text); }

testing::FakeResolver resolver_for(const nlohmann::json& scenario) {
  testing::FakeResolver dns;
  if (scenario.contains("txt-records") && scenario["txt-records"].is_object())
    for (const auto& [name, value] : scenario["txt-records"].items()) {
      std::string rec = value.get<std::string>();
      std::erase_if(rec, [](char c) { return c == '\r' || c == '\n'; });
      dns.add_txt(name, rec);
    }
  return dns;
}

class ArcValidation : public ::testing::TestWithParam<Case> {};

TEST_P(ArcValidation, ChainResult) {
  const auto& scenario = suite()["validation"][GetParam().scenario];
  const auto& test = scenario["tests"][GetParam().id];
  std::string expected = test["cv"].is_string() ? util::to_lower(util::trim(test["cv"].get<std::string>())) : "";
  if (expected.empty()) expected = "fail";  // SOURCES.md: the three empty cv tests have a cv=fail seal
  std::string text = crlf(test["message"].is_string() ? test["message"].get<std::string>() : "");
  auto dns = resolver_for(scenario);
  auto msg = mail::Message::parse(text);
  std::string got = "fail", reason;
  if (msg) {
    verify_chain(*msg, dns, [&](ChainResult r) {
      got = std::string(cv_name(r.cv));
      reason = r.reason;
    });
  } else {
    reason = "message did not parse: " + msg.error().message;
  }
  EXPECT_EQ(got, expected) << GetParam().id << ": " << test.value("description", "") << "; reason: " << reason;
}

INSTANTIATE_TEST_SUITE_P(Arc, ArcValidation, ::testing::ValuesIn(cases("validation")),
                         [](const auto& info) { return sanitize(info.param.id); });

std::set<std::string> tag_set(std::string value) {
  std::erase_if(value, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  std::set<std::string> out;
  for (auto part : util::split(value, ';'))
    if (!part.empty()) out.emplace(part);
  return out;
}

std::string field_value(const std::string& field) { return field.substr(field.find(':') + 1); }

// The cv the sealer is told: the arc= result in the srv-id's
// Authentication-Results, which the suite treats as the validation outcome.
ChainValidation cv_from_results(const std::string& payload) {
  std::string p = util::to_lower(payload);
  std::size_t at = p.find("arc=");
  if (at == std::string::npos) return ChainValidation::none;
  if (p.compare(at + 4, 4, "pass") == 0) return ChainValidation::pass;
  if (p.compare(at + 4, 4, "fail") == 0) return ChainValidation::fail;
  return ChainValidation::none;
}

class ArcSigning : public ::testing::TestWithParam<Case> {};

TEST_P(ArcSigning, AddsTheExpectedSet) {
  const auto& scenario = suite()["signing"][GetParam().scenario];
  const auto& test = scenario["tests"][GetParam().id];
  auto key = dkim::load_private_key(scenario["privatekey"].get<std::string>());
  ASSERT_TRUE(key) << key.error().message;
  std::vector<std::string> headers;
  std::string sig_headers = test["sig-headers"].get<std::string>();
  for (auto h : util::split(sig_headers, ':')) headers.emplace_back(h);
  auto sealer = SealerBuilder(scenario["domain"].get<std::string>(), scenario["sel"].get<std::string>(), *key)
                    .headers(headers)
                    .build();
  ASSERT_TRUE(sealer) << sealer.error().message;
  std::string text = crlf(test["message"].get<std::string>());
  auto msg = mail::Message::parse(text);
  ASSERT_TRUE(msg) << msg.error().message;
  std::string srv_id = test["srv-id"].get<std::string>();
  std::string payload = results_for(*msg, srv_id).value_or(srv_id + "; none");
  auto set = sealer->seal(*msg, payload, cv_from_results(payload), test["t"].get<std::int64_t>());
  ASSERT_TRUE(set) << set.error().message;
  std::string want_as = test["AS"].is_string() ? test["AS"].get<std::string>() : "";
  if (util::trim(want_as).empty()) {
    EXPECT_FALSE(set->has_value()) << "a failed chain must not get another set";
    return;
  }
  ASSERT_TRUE(set->has_value());
  EXPECT_EQ(tag_set(field_value((*set)->aar)), tag_set(test["AAR"].get<std::string>()));
  EXPECT_EQ(tag_set(field_value((*set)->ams)), tag_set(test["AMS"].get<std::string>()));
  EXPECT_EQ(tag_set(field_value((*set)->seal)), tag_set(want_as));
}

INSTANTIATE_TEST_SUITE_P(Arc, ArcSigning, ::testing::ValuesIn(cases("signing")),
                         [](const auto& info) { return sanitize(info.param.id); });

}  // namespace
}  // namespace mailmoat::auth::arc

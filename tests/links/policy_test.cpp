// Policy selection by priority and the do-not-rewrite list's host semantics.
#include "links/policy.h"

#include <gtest/gtest.h>

namespace mailmoat::links {
namespace {

TEST(LinkPolicy, WildcardCoversSubdomainsOnly) {
  EXPECT_TRUE(host_matches("*.example.com", "a.example.com"));
  EXPECT_TRUE(host_matches("*.example.com", "a.b.EXAMPLE.com"));
  EXPECT_FALSE(host_matches("*.example.com", "example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "badexample.com"));
  EXPECT_TRUE(host_matches("example.com", "Example.com"));
  EXPECT_FALSE(host_matches("example.com", "a.example.com"));
}

TEST(LinkPolicy, DoNotRewriteTakesHostsAndUrlPrefixes) {
  LinkPolicy p;
  p.do_not_rewrite = {"*.intranet.example", "https://docs.example/public/"};
  auto check = [&](const std::string& url) { return in_do_not_rewrite(p, url, *parse_url(url)); };
  EXPECT_TRUE(check("https://wiki.intranet.example/x"));
  EXPECT_FALSE(check("https://intranet.example/x"));
  EXPECT_TRUE(check("https://docs.example/public/a"));
  EXPECT_FALSE(check("https://docs.example/private/a"));
}

TEST(LinkPolicy, LowestPriorityNumberCoveringTheRecipientWins) {
  LinkPolicy fallback;
  auto policy = [](std::string name, int priority, std::string recipient) {
    LinkPolicy p;
    p.name = std::move(name);
    p.priority = priority;
    p.recipients = {std::move(recipient)};
    return p;
  };
  std::vector<LinkPolicy> all{policy("sales", 10, "sales.example.org"), policy("boss", 1, "ceo@sales.example.org"),
                              policy("subs", 20, "*.example.org")};
  EXPECT_EQ(policy_for(all, "ceo@sales.example.org", fallback).name, "boss");
  EXPECT_EQ(policy_for(all, "bob@sales.example.org", fallback).name, "sales");
  EXPECT_EQ(policy_for(all, "bob@eu.example.org", fallback).name, "subs");
  EXPECT_EQ(policy_for(all, "bob@example.org", fallback).name, "default");
}

}  // namespace
}  // namespace mailmoat::links

#include "smtp/server/connection_limiter.h"

#include <gtest/gtest.h>

namespace mailmoat::smtp {

using namespace std::chrono_literals;

TEST(ConnectionLimiter, CapsPerAddressWithoutStarvingOthers) {
  ConnectionLimiter l({.max_total = 10, .max_per_ip = 2, .max_rate_per_ip = 100});
  auto t = ConnectionLimiter::Clock::now();
  EXPECT_FALSE(l.admit("192.0.2.1", t));
  EXPECT_FALSE(l.admit("192.0.2.1", t));
  EXPECT_TRUE(l.admit("192.0.2.1", t));  // a third one from the same address
  EXPECT_FALSE(l.admit("192.0.2.2", t));  // another address is still served
  l.release("192.0.2.1");
  EXPECT_FALSE(l.admit("192.0.2.1", t));
}

TEST(ConnectionLimiter, RateIsPerMinutePerAddress) {
  ConnectionLimiter l({.max_total = 100, .max_per_ip = 100, .max_rate_per_ip = 3});
  auto t = ConnectionLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(l.admit("198.51.100.9", t));
    l.release("198.51.100.9");
  }
  EXPECT_TRUE(l.admit("198.51.100.9", t + 1s));
  EXPECT_FALSE(l.admit("198.51.100.9", t + 61s));  // a minute later the window has moved
}

TEST(ConnectionLimiter, TotalCapAndBusyThreshold) {
  ConnectionLimiter l({.max_total = 5, .max_per_ip = 5, .max_rate_per_ip = 100});
  auto t = ConnectionLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.admit("10.0.0." + std::to_string(i), t));
  EXPECT_TRUE(l.busy());
  EXPECT_TRUE(l.admit("10.0.0.9", t));
  EXPECT_EQ(l.active(), 5u);
}

TEST(ConnectionLimiter, ForgetsIdleAddresses) {
  ConnectionLimiter l({.max_total = 100000, .max_per_ip = 5, .max_rate_per_ip = 100});
  auto t = ConnectionLimiter::Clock::now();
  for (int i = 0; i < 5000; ++i) {
    std::string ip = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    EXPECT_FALSE(l.admit(ip, t));
    l.release(ip);
  }
  // After a minute every one of them is forgotten and admitted again.
  EXPECT_FALSE(l.admit("10.0.0.1", t + 2min));
  EXPECT_EQ(l.active(), 1u);
}

}  // namespace mailmoat::smtp

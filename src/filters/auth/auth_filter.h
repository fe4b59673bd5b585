// The `auth` filter: SPF, DKIM, ARC, iprev and DMARC on the message as
// received, written into one Authentication-Results field (RFC 8601) with
// mailmoat's authserv-id, after every incoming field that claims that
// authserv-id has been removed (RFC 8601 §5). DMARC failures are handled by
// the configured policy (reject, quarantine, or deliver marked as spam).
// All DNS goes through the dns::Resolver it is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/dmarc/dmarc.h"
#include "auth/dmarc/handling.h"
#include "dns/resolver.h"
#include "pipeline/filter.h"
#include "util/cidr.h"

namespace mailmoat::filters {

struct AuthConfig {
  std::string authserv_id = "localhost";
  bool spf = true, dkim = true, dmarc = true, arc = true, iprev = true;
  auth::dmarc::Options dmarc_options;
  auth::dmarc::HandlingPolicy handling;
  std::vector<std::string> trusted_arc_sealers;  // lower-case sealing domains
  // Local allow-list: a DMARC failure for these From domains (or their subdomains),
  // or from these client networks, is overridden with reason local_policy.
  std::vector<std::string> dmarc_allow_domains;
  std::vector<util::Network> dmarc_allow_networks;
  std::size_t max_dkim_signatures = 8;
  std::string scl_header = "X-Mailmoat-SCL";
  // Checks still unanswered after this are reported as temperror, so that an
  // unreachable DNS delays mail by a bounded time instead of blocking it.
  std::chrono::milliseconds budget{3000};
  // Roles whose mail is checked; mail from other roles (relay, submission) only
  // has forged results removed.
  std::vector<std::string> check_roles{"inbound"};
};

// What the filter found, for the trace, the rules engine and aggregate reports.
struct AuthFacts {
  std::string spf, dkim, dmarc, arc, iprev, compauth;  // result words
  std::string dmarc_policy, dmarc_action;
  std::string authentication_results;  // the field written, unfolded
};

class AuthFilter : public pipeline::Filter {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds
  // Runs a callback after a delay (an event-loop timer in the gateway, a fake in tests).
  using Scheduler = std::function<void(std::chrono::milliseconds, std::move_only_function<void()>)>;
  AuthFilter(AuthConfig config, dns::Resolver& resolver, Clock clock, Scheduler scheduler = {});
  std::string name() const override { return "auth"; }
  void on_message(pipeline::MessageContext& context, Done done) override;

  // Sets where aggregate-report records go (optional).
  void set_aggregate_sink(auth::dmarc::AggregateSink* sink) { aggregate_ = sink; }

 private:
  AuthConfig config_;
  dns::Resolver& resolver_;
  Clock clock_;
  Scheduler scheduler_;
  auth::dmarc::AggregateSink* aggregate_ = nullptr;
};

// Removes Authentication-Results fields that carry `authserv_id` from the header
// section of `message` (CRLF line ends); returns how many were removed.
int strip_forged_results(std::string& message, const std::string& authserv_id);

}  // namespace mailmoat::filters

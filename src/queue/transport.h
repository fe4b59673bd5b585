// How the queue hands a message to a delivery transport (maildir here; SMTP,
// relay and LMTP in src/smtp/client). One job is one message to the
// recipients that share a route; the transport answers per recipient.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "queue/delivery/result.h"

namespace mailmoat::queue {

struct JobRecipient {
  std::string address;
  std::string notify;
  std::string orcpt;
};

struct DeliveryJob {
  std::string queue_id;
  std::string sender;
  bool smtputf8 = false;
  std::string ret;
  std::string envid;
  bool requiretls = false;  // RFC 8689: verified TLS to the next hop, which must offer REQUIRETLS
  bool require_tls = false;  // a transport rule: verified TLS (at least `verify`), no REQUIRETLS needed
  std::vector<JobRecipient> recipients;
  std::shared_ptr<const std::string> message;  // CRLF line ends
  std::string domain;    // recipient domain of this group
  std::string next_hop;  // from the route
  std::string quarantine_reason;  // set for jobs of the quarantine transport
  std::string quarantine_policy;
};

class Transport {
 public:
  using Done = std::move_only_function<void(std::vector<RecipientResult>)>;
  virtual ~Transport() = default;
  // Calls done exactly once, with one result per job recipient, in order.
  virtual void deliver(DeliveryJob job, Done done) = 0;
  // Deliveries that share a key share the per-destination concurrency limit.
  virtual std::string destination(const DeliveryJob& job) const = 0;
};

}  // namespace mailmoat::queue

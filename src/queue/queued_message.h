// A message in the queue: its envelope, per-recipient delivery state and
// where it came from. The bytes of the message stay on disk in the spool and
// are read when a delivery needs them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/filter.h"

namespace mailmoat::queue {

enum class RecipientStatus { pending, delivered, failed };

struct RecipientState {
  std::string address;
  std::string notify;  // RFC 3461
  std::string orcpt;
  RecipientStatus status = RecipientStatus::pending;
  int attempts = 0;
  std::int64_t next_attempt = 0;  // unix seconds
  std::string last_reply;         // the remote's full reply, or the local reason
  std::string remote;             // host that gave it
  bool tls_failure = false;       // deferred because a required TLS policy failed
};

struct QueuedMessage {
  std::string id;
  pipeline::Envelope envelope;  // recipients here are the original RCPTs
  std::vector<RecipientState> recipients;
  std::int64_t received_at = 0;  // unix seconds
  std::string client_address;
  std::string helo;
  std::string listener;
  std::string role;  // inbound, relay, submission (of the listener)
  std::string message_id;  // Message-ID header, for the trace and DSNs
  std::string subject;
  std::uint64_t size = 0;
  bool held = false;
  // Why it is held ("attachments: analysis pending ..."), kept in the state
  // file so a restart knows which holds the gateway itself must resume.
  std::string hold_reason;
  bool is_dsn = false;  // a bounce we generated: never bounced itself
  // Set for a quarantined message: its one "delivery" is into the quarantine store.
  std::string quarantine_reason;
  std::string quarantine_policy;
  // Delivery requests of transport rules (pipeline::DeliveryRequests).
  std::string route;            // named [[route]] for every recipient; "" routes by domain
  bool require_tls = false;     // outbound SMTP needs verified TLS; failure defers
  std::int64_t hold_until = 0;  // not delivered before this time (unix seconds)

  bool any_failed() const {
    for (const auto& r : recipients)
      if (r.status == RecipientStatus::failed) return true;
    return false;
  }
  bool complete() const {
    for (const auto& r : recipients)
      if (r.status == RecipientStatus::pending) return false;
    return true;
  }
};

}  // namespace mailmoat::queue

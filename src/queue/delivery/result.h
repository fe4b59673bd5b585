// What one delivery attempt did for each recipient, with the remote's words.
#pragma once

#include <string>

namespace mailmoat::queue {

struct RecipientResult {
  enum class Outcome { delivered, deferred, failed };
  Outcome outcome = Outcome::deferred;
  std::string reply;   // the full reply ("250 2.0.0 Ok: queued as X") or the local reason
  std::string remote;  // "host[address]:port", or "maildir"
  bool tls_failure = false;  // deferred because a required TLS policy was not met
};

}  // namespace mailmoat::queue

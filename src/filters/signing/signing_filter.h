// The `signing` filter: DKIM signatures (RFC 6376, RFC 8463 dual RSA +
// Ed25519) on mail leaving through the relay and submission roles, and an
// ARC set (RFC 8617 5.1) on inbound mail mailmoat modified. It must be the
// last filter: it applies the edits queued so far to the message itself and
// then signs, so the signatures cover the bytes that leave.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/arc/sealer.h"
#include "auth/dkim/signer.h"
#include "pipeline/filter.h"

namespace mailmoat::filters {

struct SigningConfig {
  // Active keys only (a rotation's next key is published, not used); all keys
  // of a domain sign, so an RSA and an Ed25519 key give two signatures.
  std::vector<auth::dkim::Signer> signers;
  std::vector<std::string> sign_roles{"relay", "submission"};
  std::optional<auth::arc::Sealer> sealer;
  std::vector<std::string> seal_roles{"inbound"};
  std::string authserv_id = "localhost";  // whose Authentication-Results go into the AAR
};

class SigningFilter : public pipeline::Filter {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds
  SigningFilter(SigningConfig config, Clock clock);
  std::string name() const override { return "signing"; }
  void on_message(pipeline::MessageContext& context, Done done) override;
  // New keys and sealer (SIGHUP, key rotation); messages being signed keep the
  // configuration they started with.
  void reload(SigningConfig config);

 private:
  std::shared_ptr<const SigningConfig> current() const;
  void sign(const SigningConfig& config, pipeline::MessageContext& ctx);
  void seal(const SigningConfig& config, pipeline::MessageContext& ctx);
  mutable std::mutex mutex_;
  std::shared_ptr<const SigningConfig> config_;
  Clock clock_;
};

}  // namespace mailmoat::filters

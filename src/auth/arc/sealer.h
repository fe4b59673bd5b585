// ARC sealing (RFC 8617 section 5.1): adds the next set — an
// ARC-Authentication-Results carrying the results computed on the message as
// received, an ARC-Message-Signature over the message as it leaves, and an
// ARC-Seal over all sets — to a message. The chain status `cv` comes from
// the caller's validation of the incoming chain. A chain whose newest seal
// already says cv=fail gets no further set, and neither does one at 50 sets.
// Tags are written in alphabetical order, as the ValiMail suite expects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/arc/headers.h"
#include "auth/dkim/crypto.h"
#include "mail/message.h"
#include "util/error.h"

namespace mailmoat::auth::arc {

struct SealedSet {
  int instance = 0;
  std::string aar, ams, seal;  // complete fields, each with its final CRLF
  std::string fields() const { return seal + ams + aar; }  // prepend in this order (newest seal on top)
};

class Sealer {
 public:
  // nullopt when no set may be added (see above).
  util::Result<std::optional<SealedSet>> seal(const mail::Message& message, std::string_view authres_payload,
                                              ChainValidation cv, std::int64_t now) const;

 private:
  friend class SealerBuilder;
  Sealer() = default;
  std::string domain_, selector_;
  dkim::PrivateKey key_;
  std::optional<std::vector<std::string>> headers_;
};

class SealerBuilder {
 public:
  SealerBuilder(std::string domain, std::string selector, dkim::PrivateKey key);
  // The AMS h= list, used as given; by default the DKIM default headers present.
  SealerBuilder& headers(std::vector<std::string> names);
  util::Result<Sealer> build() const;

 private:
  Sealer s_;
};

// The payload for the AAR from the message's own Authentication-Results
// fields for `authserv_id`: "authserv-id; result; result..." (their results
// merged in order), or nullopt when there is none.
std::optional<std::string> results_for(const mail::Message& message, std::string_view authserv_id);

}  // namespace mailmoat::auth::arc

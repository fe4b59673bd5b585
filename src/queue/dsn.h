// Delivery status notifications (RFC 3464 multipart/report, RFC 3461 rules):
// built for the failed (or delayed) recipients of one message, addressed to
// its envelope sender. Never for the null sender and never for a DSN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "queue/queued_message.h"

namespace mailmoat::queue {

enum class DsnKind { failure, delay };

struct DsnMessage {
  std::string recipient;  // the original envelope sender
  std::string message;    // complete RFC 5322 message, CRLF line ends
};

// nullopt when no notification is due: null sender, a DSN itself, or every
// affected recipient asked NOTIFY=NEVER (or did not ask for this kind).
std::optional<DsnMessage> build_dsn(const QueuedMessage& meta, std::string_view original, DsnKind kind,
                                    const std::string& reporting_host, std::int64_t now_unix,
                                    const std::string& dsn_message_id);

}  // namespace mailmoat::queue

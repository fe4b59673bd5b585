// The `notify` rule action: a short text message to the sender, the
// recipients or fixed addresses, built from the rule's templates and queued
// like any message. Sent from the null reverse-path with Auto-Submitted:
// auto-generated (RFC 3834 §3.3, §5), so nothing answers or bounces it; never
// sent for mail that is itself automatic (bounces, auto-replies, Auto-Submitted
// other than "no", Precedence bulk/junk/list), which rules out loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/filter.h"
#include "pipeline/message_sink.h"
#include "policy/evaluator.h"
#include "policy/facts.h"

namespace mailmoat::filters {

struct NotifySettings {
  pipeline::MessageSink* sink = nullptr;  // null: notifications are traced as not sent
  std::string hostname = "localhost";     // From: postmaster@hostname, Message-ID domain
};

// Why no notification may be sent for this message ("" when one may).
std::string notify_blocked(const policy::MessageFacts& facts);

// The addresses a notice goes to ("sender" and "recipients" expanded; the
// null sender is never an address), without duplicates.
std::vector<std::string> notice_recipients(const policy::Notice& notice, const policy::MessageFacts& facts);

// The template with its placeholders filled in; line breaks in values become spaces.
std::string fill_template(const std::string& text, const policy::Notice& notice, const policy::MessageFacts& facts,
                          const std::string& queue_id, std::int64_t now_unix);

// Header text as is when ASCII, else RFC 2047 encoded words (UTF-8, base64), folded.
std::string encoded_header_text(const std::string& text);

// The notification message (CRLF line ends).
std::string notice_message(const policy::Notice& notice, const std::vector<std::string>& to,
                           const policy::MessageFacts& facts, const std::string& queue_id,
                           const NotifySettings& settings, std::int64_t now_unix, const std::string& message_id);

// Queues every notice (asynchronously) and returns one trace note per notice.
std::vector<pipeline::TraceNote> send_notices(const std::vector<policy::Notice>& notices,
                                              const policy::MessageFacts& facts, const std::string& queue_id,
                                              const NotifySettings& settings, std::int64_t now_unix);

}  // namespace mailmoat::filters

// The rules' disclaimer action (issue 7): text into every text/plain part, HTML into every
// text/html part (before </body> / after <body>), each re-encoded in its own transfer
// encoding and charset (links/mime_walk.h); US-ASCII/7bit parts that must carry 8-bit text
// are re-declared UTF-8 / quoted-printable. A message with a part that cannot take it
// (signed, encrypted, a charset the text cannot be written in) gets the rule's fallback:
// wrap it as message/rfc822 behind the disclaimer, leave it, or reject it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/filter.h"

namespace mailmoat::filters {

struct DisclaimerResult {
  std::optional<std::string> body;  // the new body, every text part carrying the disclaimer
  std::size_t parts = 0;            // text parts changed
  // Non-empty when the message cannot carry the disclaimer in place (then `body` is empty).
  std::string refused;
  std::vector<std::string> notes;  // per part, for the trace
  // Fields to set on the message when its own (single) text part was re-declared
  // (charset, transfer encoding); the walker sets them on inner parts itself.
  std::vector<std::pair<std::string, std::string>> headers;
};

// `message` has CRLF line ends.
DisclaimerResult add_disclaimer(std::string_view message, const pipeline::DisclaimerRequest& request);

// The `wrap` fallback: the body of a new multipart/mixed whose first part is
// the disclaimer text and whose second is `message` (message/rfc822).
// `boundary` receives the boundary for the outer Content-Type.
std::string wrap_with_disclaimer(std::string_view message, const std::string& text, std::string& boundary);

// Adds the disclaimer a rule asked for (ctx.disclaimer), or applies its
// fallback. Runs after Safe Links and the verdict, before signing.
class DisclaimerFilter : public pipeline::Filter {
 public:
  std::string name() const override { return "disclaimer"; }
  void on_message(pipeline::MessageContext& context, Done done) override;
};

}  // namespace mailmoat::filters

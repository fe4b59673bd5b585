// The gateway <-> analyze-worker protocol: length-prefixed frames (4-byte
// big-endian length, then the payload) over a socketpair. A payload is a type
// byte ('Q' request, 'R' response) and tag-length-value fields, so that a
// truncated or hostile frame from a compromised worker decodes to an error,
// never to a half-filled value. Pure; fuzzed (fuzz/attachment_ipc.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attachments/analyze.h"
#include "attachments/facts.h"
#include "util/error.h"

namespace mailmoat::attachments::ipc {

constexpr std::uint32_t kMaxFrame = 160u << 20;  // above the largest message the gateway accepts

std::string frame(std::string_view payload);
// The payload of the first complete frame in `buffer` (and how many bytes it
// used), nullopt when more bytes are needed, an error when the length is absurd.
struct Framed {
  std::string payload;
  std::size_t consumed = 0;
};
util::Result<std::optional<Framed>> unframe(std::string_view buffer);

std::string encode_request(const AnalysisRequest& request);
// The same request without its content, which travels beside the frame in a
// sealed memfd (SCM_RIGHTS): field 6 carries the content's length instead of
// field 2, so 1 MB costs the worker one wakeup, not one per socket buffer.
std::string encode_request_attached(const AnalysisRequest& request);
// `attached`: the bytes of the memfd that came with the frame, if any; a
// request naming attached content without (enough of) it is malformed.
util::Result<AnalysisRequest> decode_request(std::string_view payload,
                                             std::optional<std::string_view> attached = std::nullopt);
std::string encode_response(const Analysis& analysis);
util::Result<Analysis> decode_response(std::string_view payload);

}  // namespace mailmoat::attachments::ipc

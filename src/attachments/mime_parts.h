// The GMime 3 adaptor of Safe Attachments: walks a message's MIME tree
// (multiparts and attached messages, depth-limited) and returns every part
// that is an attachment or an inline non-text part, with its file name
// (RFC 2231 / RFC 2047 decoded by GMime) and its content-transfer-decoded bytes.
// Kept inside src/attachments on purpose; the lead unifies GMime adaptors later.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::attachments {

struct MimePart {
  std::string name;           // decoded file name, "" when the part has none
  std::string declared_type;  // "type/subtype", lower case
  std::string content;        // decoded bytes
  std::size_t leaf_index = 0; // position among all leaf parts, in document order
};

struct MimeWalk {
  std::vector<MimePart> parts;  // attachments and inline non-text parts
  std::string text;             // decoded text/plain and text/html bodies (for archive passwords); "" without parts
  bool truncated = false;       // depth or part-count limit reached
};

struct MimeLimits {
  std::size_t max_depth = 32;
  std::size_t max_parts = 10000;
};

MimeWalk walk_mime(std::string_view message, const MimeLimits& limits = {});

// True only when no line of the message (headers or bodies) declares anything
// but text/* or multipart/{alternative,mixed,related}, and none names a file or a
// disposition: walk_mime would find no part then. False means "not sure" (the
// walk decides). A quick scan, no parsing; fuzzed against walk_mime.
bool surely_without_attachments(std::string_view message);

// Replaces leaf parts (by leaf_index) with a text/plain part holding `notice`
// and returns the new message; the rest of the message is written by GMime as
// parsed. Used by the `replace` and `dynamic_delivery` policies.
struct PartReplacement {
  std::size_t leaf_index = 0;
  std::string notice;
};
std::string replace_parts(std::string_view message, const std::vector<PartReplacement>& replacements);

}  // namespace mailmoat::attachments

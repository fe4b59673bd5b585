// Rewrites the links of a whole message, part by part (RFC 2045-2046): text/plain
// and text/html parts that are not attachments are decoded (quoted-printable,
// base64) through GMime, their URL sites replaced, and re-encoded with the same
// transfer encoding and charset. Every other byte of the message, including the
// MIME structure and every part without a rewritten link, stays as it was.
// Signed or encrypted parts (S/MIME, PGP) are never modified.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::links {

struct RewriteOptions {
  std::size_t max_urls = 2000;       // links rewritten per message; the rest are left as they are
  bool rewrite_images = false;       // img src in HTML
  std::size_t max_part_bytes = std::size_t{16} * 1024 * 1024;  // larger decoded parts are left unchanged
};

// Given an absolute URL, the link to put in its place, or nullopt to leave it.
using LinkMaker = std::function<std::optional<std::string>(const std::string& url)>;

struct RewriteOutcome {
  std::optional<std::string> body;  // the new body (after the header/body separator), when changed
  std::size_t rewritten = 0;
  std::size_t left_by_policy = 0;   // the maker said no (do-not-rewrite list, already ours)
  std::size_t left_over_cap = 0;
  std::vector<std::string> notes;   // why a part or link was left unchanged, for the trace
};

// `message` has CRLF line ends. Never fails: what cannot be rewritten is left and noted.
RewriteOutcome rewrite_message(std::string_view message, const RewriteOptions& options, const LinkMaker& make_link);

}  // namespace mailmoat::links

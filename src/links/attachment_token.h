// Signed Dynamic Delivery attachment links (issue 9, docs/attachments.md):
//   <public_url>/v1/a?m=<queue id of the held original>&p=<MIME leaf index>&s=<tag>
// tag = base64url(HMAC-SHA256(key, "mailmoat-attachment-v1" + each field
// length-prefixed)) with the Safe Links keys. The context string differs from
// /v1/l links' so that a signed Safe Link can never stand for an attachment link.
#pragma once

#include <string>
#include <vector>

#include "util/error.h"

namespace mailmoat::links {

struct AttachmentLink {
  std::string message;  // queue id of the original message
  std::string part;     // leaf index of the attachment in it (decimal)
  std::string tag;
};

class AttachmentLinkSigner {
 public:
  // Same rules as LinkSigner::create: scheme://host[:port], keys of 16 bytes or more, the first signs.
  static util::Result<AttachmentLinkSigner> create(std::string public_url, std::vector<std::string> keys);
  std::string link(const std::string& message, const std::string& part) const;
  bool verify(const AttachmentLink& link) const;

 private:
  std::string public_url_;
  std::vector<std::string> keys_;
};

// Reads the query of a /v1/a request ("m=...&p=...&s=..."); fails on a missing,
// repeated or badly encoded field.
util::Result<AttachmentLink> parse_attachment_link(std::string_view query);

}  // namespace mailmoat::links

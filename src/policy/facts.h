// MessageFacts: everything a rule condition may test, built once per message
// as a read-only value, so conditions never re-parse the message and every
// rule sees the same facts. Subject and body are decoded (RFC 2047 words,
// transfer encodings, charsets to UTF-8) with GMime; only the first
// `body_limit` bytes of decoded text parts are kept, which bounds the cost of
// body conditions on enormous messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mailmoat::policy {

struct AuthFacts {
  std::string spf, dkim, dmarc, arc, compauth, dmarc_policy;  // result words; "" when not checked
};

// One attachment as Safe Attachments described it (pipeline::AttachmentFact).
struct AttachmentFacts {
  std::string name;
  std::string extension;  // lower case, no dot
  std::string true_type;  // e.g. application/x-dosexec
  std::uint64_t size = 0;
  bool executable = false;
  bool password_protected = false;
  bool scan_incomplete = false;
  std::string verdict;  // clean | suspicious | malicious | scan error
  std::string text;     // text the analysis found in the file (capped); "" when none or not analysed
};

struct MessageFacts {
  std::string envelope_sender;                  // lower case; "" for the null reverse-path
  std::vector<std::string> envelope_recipients;  // lower case
  std::string header_from;                      // lower case address of the first From mailbox
  bool sender_internal = false;
  std::string direction;  // inbound | outbound | internal
  std::string client_ip;
  std::string helo;
  bool tls = false;
  std::string connector;        // partner connector that covered the sender ("" when none)
  bool domain_secured = false;  // that connector's mutual-TLS requirements were met
  std::optional<int> scl;  // set by earlier checks
  AuthFacts auth;
  std::vector<AttachmentFacts> attachments;
  std::vector<std::pair<std::string, std::string>> headers;  // name as written, unfolded value
  std::string subject;  // decoded
  std::string body;     // decoded text parts, '\n' between parts, at most body_limit bytes
  bool body_truncated = false;
  std::string body_problem;  // why the body could not be decoded; "" when it could
  std::uint64_t size = 0;
  std::vector<std::string> message_types;  // auto_reply, auto_forward, calendar, signed, encrypted, read_receipt, bounce
};

struct FactsInput {
  std::string_view message;  // CRLF line ends, pending header edits already applied
  std::string envelope_sender;
  std::vector<std::string> envelope_recipients;
  std::string client_ip, helo, role;  // role: inbound | relay | submission | milter
  bool tls = false;
  std::string connector;
  bool domain_secured = false;
  std::optional<int> scl;
  AuthFacts auth;
  std::vector<AttachmentFacts> attachments;
  std::vector<std::string> internal_domains;  // lower case
  std::size_t body_limit = std::size_t{64} * 1024;
};

// Builds the facts; never fails: what cannot be decoded is recorded in body_problem.
MessageFacts build_facts(const FactsInput& input);

// The domain of an address (after the last '@'), lower case; "" when none.
std::string domain_of(std::string_view address);
// True when `domain` is one of `domains` or a subdomain of one.
bool domain_in(std::string_view domain, const std::vector<std::string>& domains);

}  // namespace mailmoat::policy

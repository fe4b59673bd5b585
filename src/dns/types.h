// DNS questions and answers as plain values, shared by the resolvers (zone
// file, libunbound) and the pure evaluators (SPF, DKIM, DMARC, ARC, DANE),
// which never do I/O themselves: they ask a Resolver (dns/resolver.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailmoat::dns {

enum class RecordType : std::uint16_t { a = 1, ptr = 12, mx = 15, txt = 16, aaaa = 28, tlsa = 52 };

// ok: at least one record of the type; nodata: the name exists without such records.
enum class Status { ok, nxdomain, nodata, servfail, timeout };

struct Question {
  std::string name;  // absolute, without the trailing dot, e.g. "example.com"
  RecordType type = RecordType::txt;
};

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  // without the trailing dot; "" for a null MX (RFC 7505)
};

struct TlsaRecord {
  std::uint8_t usage = 0, selector = 0, matching_type = 0;
  std::string data;  // binary association data
};

struct Answer {
  Status status = Status::nxdomain;
  bool authenticated = false;          // DNSSEC AD bit from a validating resolver
  bool bogus = false;                  // DNSSEC validation failed (status servfail); RFC 8460 dnssec-invalid
  std::string canonical_name;          // the name a CNAME chain led to, when not the question's name; else empty
  std::uint32_t ttl = 0;
  std::vector<std::string> txt;        // TXT: each record's strings concatenated
  std::vector<std::string> addresses;  // A/AAAA: textual addresses ("192.0.2.1", "2001:db8::1")
  std::vector<std::string> names;      // PTR: target names without the trailing dot
  std::vector<MxRecord> mx;
  std::vector<TlsaRecord> tlsa;
};

// Kept for callers that only deal in TXT.
using TxtAnswer = Answer;

}  // namespace mailmoat::dns

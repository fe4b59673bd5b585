// DNS answers as plain values, shared by the resolvers (zone file, libunbound)
// and the pure evaluators (SPF, DKIM, DMARC, ARC), which never perform I/O:
// they name the questions they need and are handed these answers.
#pragma once

#include <string>
#include <vector>

namespace mailmoat::dns {

enum class Status { ok, nxdomain, nodata, servfail, timeout };

struct TxtAnswer {
  Status status = Status::nxdomain;
  std::vector<std::string> records;  // each record's strings already concatenated
  bool authenticated = false;        // DNSSEC AD bit
};

}  // namespace mailmoat::dns

// A small blocking HTTP/1.1 client for the command line talking to a local
// gateway's admin API (one request per connection). Not for the data path.
// With `pinned_cert` it speaks HTTPS and trusts exactly that certificate
// (the gateway's own, read from its configuration), whatever its names.
#pragma once

#include <string>
#include <vector>

#include "util/error.h"

namespace mailmoat::http {

struct ClientResponse {
  int status = 0;
  std::string body;
};

util::Result<ClientResponse> request(const std::string& host_port, const std::string& method, const std::string& target,
                                     const std::string& body = {}, const std::vector<std::string>& headers = {},
                                     const std::string& pinned_cert = {});

}  // namespace mailmoat::http

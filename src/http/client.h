// A small blocking HTTP/1.1 client for the command line talking to a local
// gateway's admin API (one request per connection). Not for the data path.
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
                                     const std::string& body = {}, const std::vector<std::string>& headers = {});

}  // namespace mailmoat::http

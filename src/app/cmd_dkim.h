// `mailmoat keygen` (a DKIM key pair: the private key written with mode 0600,
// the TXT record to publish printed zone-file ready, split into 255-byte
// strings as RFC 6376 3.6.2.2 allows) and `mailmoat sign` (DKIM-sign or
// ARC-seal one message from a file or stdin, printed with CRLF line ends).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct DkimCommand {
  std::string action;  // keygen | sign
  std::string domain, selector, algorithm, out, key, canon = "relaxed/relaxed", message = "-";
  int bits = 2048;
  bool arc = false;
  std::string authserv_id, cv;
};

void add_dkim_commands(CLI::App& app, DkimCommand& cmd);
int run_dkim_command(const DkimCommand& cmd);

}  // namespace mailmoat::app

// One SMTP command line, as a client could send it, through the parser.
#include <cstdint>
#include <string_view>

#include "smtp/protocol/command.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  for (bool utf8 : {false, true}) {
    auto r = mailmoat::smtp::parse_command(line, utf8);
    if (auto* reply = std::get_if<mailmoat::smtp::Reply>(&r)) {
      if (reply->code < 400 || reply->wire().empty()) __builtin_trap();  // a parse error is always a 4xx/5xx reply
    }
  }
  return 0;
}

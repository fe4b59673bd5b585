// Bytes from an MTA through the milter packet reader and every command decoder:
// never a crash, never a read past the input, a packet never longer than the limit.
#include <cstdint>
#include <string_view>

#include "milter/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailmoat::milter;
  PacketReader reader(4096);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Fed in two pieces, to cover packets split across reads.
  reader.feed(in.substr(0, size / 2));
  for (int round = 0; round < 2; ++round) {
    while (auto p = reader.next()) {
      if (p->data.size() + 1 > 4096) __builtin_trap();
      std::string why;
      switch (p->command) {
        case command::optneg: (void)parse_optneg(p->data, why); break;
        case command::macro: (void)parse_macros(p->data, why); break;
        case command::connect: (void)parse_connect(p->data, why); break;
        case command::header: (void)parse_header(p->data, why); break;
        default: (void)parse_strings(p->data, why); break;
      }
      (void)command_name(p->command);
    }
    if (round == 0) reader.feed(in.substr(size / 2));
  }
  return 0;
}

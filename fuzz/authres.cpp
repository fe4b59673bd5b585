// Fuzzes the Authentication-Results parser, write/parse round trips and the
// removal of fields carrying our authserv-id from a header block.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/authres/authres.h"

using namespace mailmoat::auth::authres;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto ar = parse(text);
  if (ar) {
    std::string field = write(*ar);
    auto again = parse(field.substr(field.find(':') + 1));
    if (!again || again->results.size() != ar->results.size()) std::abort();  // the writer must be readable
  }
  (void)remove_own_results(text, "mx.example.org");
  (void)parse_arc(text);
  return 0;
}

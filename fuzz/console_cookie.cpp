// Fuzzes the Cookie header reader: any header text must give either nothing or
// a value that lies inside the header and holds no ';' (a value can never
// swallow a following cookie).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/cookie.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  for (std::string_view name : {"mailmoat_session", "a", ""}) {
    auto v = mailmoat::util::cookie_value(header, name);
    if (!v) continue;
    if (v->data() < header.data() || v->data() + v->size() > header.data() + header.size()) std::abort();
    if (v->find(';') != std::string_view::npos) std::abort();
  }
  return 0;
}


#include "util/errno_message.h"

#include <string.h>  // NOLINT(modernize-deprecated-headers): strerror_r is not in <cstring>

namespace mailmoat::util {

std::string errno_message(int err) {
  char buf[256];
  // The GNU strerror_r (g++ defines _GNU_SOURCE): returns either buf or a static string.
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace mailmoat::util

#include "util/time.h"

#include <ctime>

namespace mailmoat::util {

std::string rfc5322_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char buf[64];
  // Only a time beyond the year 2^31 has no calendar date; it is written as the epoch.
  if (!gmtime_r(&t, &tm)) return "Thu, 01 Jan 1970 00:00:00 +0000";
  if (std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0) return "Thu, 01 Jan 1970 00:00:00 +0000";
  return buf;
}

}  // namespace mailmoat::util

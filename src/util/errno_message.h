// The text of an errno value, for error messages. Not std::strerror, which may share one buffer
// between threads (the gateway runs several); clang-tidy's concurrency-mt-unsafe flags it.
#pragma once

#include <string>

namespace mailmoat::util {

std::string errno_message(int err);

}  // namespace mailmoat::util

// Reading the result of a lookup that can fail or find nothing (Result<std::optional<T>>, as the
// settings store returns) for callers that treat an error like absence. One named optional is
// tested and then read, which bugprone-unchecked-optional-access can follow (`r && *r` then `**r`
// it cannot).
#pragma once

#include <optional>

#include "util/error.h"

namespace mailmoat::util {

// The value, or nullptr when the lookup failed or found nothing.
template <typename T>
const T* found(const Result<std::optional<T>>& r) {
  if (!r) return nullptr;
  const std::optional<T>& value = *r;
  return value ? &*value : nullptr;
}

}  // namespace mailmoat::util

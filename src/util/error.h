// Errors as values for the whole code base: parsers and evaluators return
// Result<T> (std::expected) carrying an Error with a human-readable reason,
// never throw across a module boundary.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace mailmoat::util {

struct Error {
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace mailmoat::util

// The one DNS interface every module uses. Asynchronous by callback so that it
// needs no event-loop types: the zone-file resolver (tests, offline CLI)
// answers at once, the libunbound resolver answers later on the event loop.
// Implementations must call `done` exactly once, never throw.
#pragma once

#include <functional>

#include "dns/types.h"

namespace mailmoat::dns {

class Resolver {
 public:
  using Callback = std::move_only_function<void(Answer)>;
  virtual ~Resolver() = default;
  virtual void resolve(Question question, Callback done) = 0;
};

}  // namespace mailmoat::dns

// A chain of filters run in order at end of data. The first verdict that is
// not `accept` ends the chain; edits are applied to the message afterwards,
// once, in the order filters asked for them. The chain itself has no clock:
// the front end enforces the time budget and abandons a chain that overruns.
#pragma once

#include <memory>
#include <vector>

#include "pipeline/filter.h"

namespace mailmoat::pipeline {

class FilterChain {
 public:
  void add(std::shared_ptr<Filter> filter);
  std::size_t size() const { return filters_.size(); }
  // Runs every filter over `context` (which must outlive the run) and calls done.
  void run(std::shared_ptr<MessageContext> context, Filter::Done done) const;

 private:
  std::vector<std::shared_ptr<Filter>> filters_;
};

// Applies header and body edits to a message (CRLF line ends). Header
// removals match field names ASCII case-insensitively.
void apply_edits(std::string& message, const Edits& edits);

}  // namespace mailmoat::pipeline

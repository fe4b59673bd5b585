// A chain of filters run in order at end of data. The first verdict that is
// not `accept` or `hold` ends the chain; a `hold` is kept and the chain goes
// on (a later refusal or quarantine wins over it); edits are applied afterwards,
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
  // The filters after the first one named `name` (empty when none is), for
  // copies a filter makes of the message that must still pass the rest.
  std::shared_ptr<FilterChain> after(std::string_view name) const;

 private:
  std::vector<std::shared_ptr<Filter>> filters_;
};

// Applies header and body edits to a message (CRLF line ends). Header
// removals match field names ASCII case-insensitively.
void apply_edits(std::string& message, const Edits& edits);
// The same edits applied to a copy: `message` is read, not changed.
std::string with_edits(std::string_view message, const Edits& edits);

}  // namespace mailmoat::pipeline

namespace mailmoat::pipeline {
// The unfolded value of the first header field named `name` (ASCII
// case-insensitive) in the header section of `message`; "" when absent.
std::string header_value(std::string_view message, std::string_view name);
}  // namespace mailmoat::pipeline

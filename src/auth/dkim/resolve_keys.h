// Drives a two-step verification (DKIM or ARC): ask the resolver for every
// key the verification lists, hand each answer back, and report the result
// once the last answer is in (synchronously when the resolver answers at once).
// Resolver callbacks must not run concurrently (one thread or strand).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "dns/resolver.h"

namespace mailmoat::auth::dkim {

template <typename Verification, typename Result, typename Finish>
void resolve_keys(Verification verification, dns::Resolver& resolver, std::move_only_function<void(Result)> done,
                  Finish finish) {
  struct State {
    Verification verification;
    std::size_t outstanding = 0;
    std::move_only_function<void(Result)> done;
    Finish finish;
  };
  auto state = std::make_shared<State>(State{std::move(verification), 0, std::move(done), std::move(finish)});
  auto queries = state->verification.key_queries();
  if (queries.empty()) {
    state->done(state->finish(state->verification));
    return;
  }
  state->outstanding = queries.size();
  for (auto& q : queries) {
    std::string name = q.name;
    resolver.resolve(std::move(q), [state, name](const dns::Answer& answer) {
      state->verification.add_key_answer(name, answer);
      if (--state->outstanding == 0) state->done(state->finish(state->verification));
    });
  }
}

}  // namespace mailmoat::auth::dkim

// A minimal C++20 coroutine task for pure evaluators (SPF, DMARC, ...) that
// await dns::Resolver without any event-loop types. Lazy start, symmetric
// transfer on completion, and a query awaiter that does not suspend when the
// resolver answers inside resolve() (the zone resolver), so a whole evaluation
// against it completes synchronously on the caller's stack without growing it.
// Evaluators never throw; an escaping exception terminates.
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "dns/resolver.h"

namespace mailmoat::dns {

namespace detail {
// The promise parts shared by Task<T> and Task<void>.
template <typename Promise>
struct FinalAwaiter {
  bool await_ready() noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    auto next = h.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() noexcept {}
};
template <typename T>
struct ValueSlot {
  std::optional<T> value;
  void return_value(T v) { value = std::move(v); }
  T take() { return std::move(*value); }
};
template <>
struct ValueSlot<void> {
  void return_void() {}
  void take() {}
};
}  // namespace detail

template <typename T = void>
class Task {
 public:
  struct promise_type : detail::ValueSlot<T> {
    std::coroutine_handle<> continuation;

    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    detail::FinalAwaiter<promise_type> final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { std::terminate(); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    handle_.promise().continuation = caller;
    return handle_;
  }
  T await_resume() { return handle_.promise().take(); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

// Awaits one DNS question. The callback and await_suspend race for `state`;
// whoever arrives second continues the coroutine, so a synchronous answer
// never suspends and an asynchronous one resumes from the resolver's callback.
class QueryAwaiter {
 public:
  QueryAwaiter(Resolver& resolver, Question question)
      : resolver_(resolver), question_(std::move(question)) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    resolver_.resolve(std::move(question_), [this, h](Answer a) {
      answer_ = std::move(a);
      if (state_.exchange(1) == 1) h.resume();
    });
    return state_.exchange(1) == 0;
  }
  Answer await_resume() { return std::move(answer_); }

 private:
  Resolver& resolver_;
  Question question_;
  Answer answer_;
  std::atomic<int> state_{0};
};

inline QueryAwaiter query(Resolver& resolver, std::string name, RecordType type) {
  return QueryAwaiter(resolver, Question{std::move(name), type});
}

namespace detail {
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
template <typename T, typename F>
Detached run_detached(Task<T> task, F done) {
  done(co_await std::move(task));
}
}  // namespace detail

// Starts `task`; `done(T)` runs once it completes (at once with a synchronous resolver).
template <typename T, typename F>
void start(Task<T> task, F done) {
  detail::run_detached(std::move(task), std::move(done));
}

}  // namespace mailmoat::dns

// A callback-style operation awaited on the current strand with a deadline,
// shared by the SMTP and milter front ends: start the operation with
// callback(), then co_await wait(). A late answer (after the deadline) is
// dropped. Kept free of lambdas captured into coroutine frames, which g++ 12
// mishandles (docs/decisions.md).
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace mailmoat::netio {

template <typename T>
struct Pending : std::enable_shared_from_this<Pending<T>> {
  Pending(const boost::asio::any_io_executor& ex, std::chrono::milliseconds timeout) : timer(ex) {
    timer.expires_after(timeout);
  }
  std::move_only_function<void(T)> callback() {
    return [self = this->shared_from_this()](T value) mutable {
      boost::asio::post(self->timer.get_executor(), [self, v = std::move(value)]() mutable {
        if (self->value) return;
        self->value = std::move(v);
        self->timer.cancel();
      });
    };
  }
  boost::asio::awaitable<void> wait() {
    // cppcheck-suppress missingReturn ; a coroutine returning awaitable<void> needs no return
    if (!value) co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  boost::asio::steady_timer timer;
  std::optional<T> value;
};

}  // namespace mailmoat::netio

// Event loops for client connections, one io_context per thread. A connection's
// socket, timers and coroutine belong to one loop, so its reads, writes and
// timer re-arms run on the thread that owns them: the next packet of a session
// wakes that thread alone, instead of an epoll thread that hands the handler
// to a second thread of a shared io_context (a futex wake and two context
// switches per event). Each loop accepts its own connections (netio/listen.h);
// next() deals out those a lone listener accepts. Work a connection starts
// elsewhere (DNS, the queue, analysis pools) answers by posting to the
// connection's executor, as before.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace mailmoat::netio {

class IoPool {
 public:
  explicit IoPool(std::size_t loops) {
    if (loops == 0) loops = 1;
    for (std::size_t i = 0; i < loops; ++i) {
      auto& l = loops_.emplace_back(std::make_unique<Loop>());
      l->guard.emplace(boost::asio::make_work_guard(l->io));
    }
  }
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;
  ~IoPool() {
    stop();
    join();
  }

  // The executor for the next connection (round robin).
  boost::asio::any_io_executor next() {
    return loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->io.get_executor();
  }
  std::size_t size() const { return loops_.size(); }
  boost::asio::any_io_executor executor(std::size_t i) { return loops_[i % loops_.size()]->io.get_executor(); }
  // The loop whose thread is calling, when that thread runs a pool's loop; else null.
  // A timer a session arms for itself belongs there: arming it and its expiry then
  // wake no other thread.
  static boost::asio::io_context* current() { return current_; }

  void start() {
    for (auto& l : loops_)
      if (!l->thread.joinable())
        l->thread = std::thread([io = &l->io] {
          current_ = io;
          io->run();
        });
  }
  // Ends every loop at once; what is still queued is destroyed with the pool.
  void stop() {
    for (auto& l : loops_) {
      l->guard.reset();
      l->io.stop();
    }
  }
  void join() {
    for (auto& l : loops_)
      if (l->thread.joinable()) l->thread.join();
  }

 private:
  struct Loop {
    boost::asio::io_context io{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
  };
  inline static thread_local boost::asio::io_context* current_ = nullptr;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace mailmoat::netio

// Runs an UnboundResolver on an Asio executor: a posix::stream_descriptor
// waits for libunbound's fd to become readable (async_wait, never a read of
// ours) and then calls process(); each query gets a steady_timer that answers
// Status::timeout and cancels the query when the per-query budget runs out.
// Single-threaded use: call resolve() from the executor's (strand's) thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>

#include "dns/unbound/unbound_resolver.h"

namespace mailmoat::dns::unbound {

class AsioUnboundResolver : public Resolver {
 public:
  AsioUnboundResolver(boost::asio::any_io_executor executor, std::unique_ptr<UnboundResolver> resolver,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~AsioUnboundResolver() override;

  void resolve(Question question, Callback done) override;
  UnboundResolver& resolver() { return *resolver_; }

 private:
  void watch();

  boost::asio::any_io_executor executor_;
  std::unique_ptr<UnboundResolver> resolver_;
  std::chrono::milliseconds timeout_;
  boost::asio::posix::stream_descriptor fd_;
  bool watching_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mailmoat::dns::unbound

#include "dns/unbound/asio_unbound_resolver.h"

#include <boost/asio/steady_timer.hpp>

namespace mailmoat::dns::unbound {

AsioUnboundResolver::AsioUnboundResolver(boost::asio::any_io_executor executor,
                                         std::unique_ptr<UnboundResolver> resolver,
                                         std::chrono::milliseconds timeout)
    : executor_(std::move(executor)), resolver_(std::move(resolver)), timeout_(timeout), fd_(executor_, resolver_->fd()) {}

AsioUnboundResolver::~AsioUnboundResolver() {
  *alive_ = false;
  fd_.release();  // the fd belongs to libunbound
}

// Keeps one wait outstanding while queries are in flight.
void AsioUnboundResolver::watch() {
  if (watching_ || resolver_->in_flight() == 0) return;
  watching_ = true;
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this, alive = alive_](boost::system::error_code ec) {
                   if (!*alive) return;
                   watching_ = false;
                   if (ec) return;
                   resolver_->process();
                   watch();
                 });
}

void AsioUnboundResolver::resolve(Question question, Callback done) {
  auto timer = std::make_shared<boost::asio::steady_timer>(executor_, timeout_);
  // The timer lives until the answer or the timeout, whichever comes first.
  auto id = resolver_->start(question, [timer, done = std::move(done)](Answer a) mutable {
    timer->cancel();
    done(std::move(a));
  });
  timer->async_wait([this, id, timer, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    resolver_->abandon(id, Status::timeout);
  });
  watch();
}

}  // namespace mailmoat::dns::unbound

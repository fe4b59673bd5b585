// The maildir transport: local delivery (queue/delivery/maildir.h) behind the
// Transport interface, run on a blocking-work pool so the event loop never
// waits on fsync.
#pragma once

#include <memory>
#include <string>

#include "queue/transport.h"

namespace boost::asio {
class thread_pool;
}

namespace mailmoat::queue {

class MaildirTransport : public Transport {
 public:
  // `default_base` is used when the route gives no directory.
  MaildirTransport(boost::asio::thread_pool& pool, std::string default_base, std::string hostname);
  void deliver(DeliveryJob job, Done done) override;
  std::string destination(const DeliveryJob& job) const override;

 private:
  boost::asio::thread_pool& pool_;
  std::string default_base_;
  std::string hostname_;
};

}  // namespace mailmoat::queue

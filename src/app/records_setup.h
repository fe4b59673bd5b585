// Wiring of the records side of the gateway: the quarantine transport (how a
// quarantined message reaches the store), and the hourly housekeeping job that
// applies retention (trace, clicks, expired quarantine items).
#pragma once

#include <memory>

#include "app/config.h"
#include "queue/quarantine_transport.h"
#include "store/stores.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::app {

queue::QuarantineRetention quarantine_retention(const Config& config);

// Runs once at start and then every hour on `io`; never blocks the event
// loop on the database (each purge runs on its own thread).
class Housekeeping {
 public:
  Housekeeping(boost::asio::io_context& io, store::Stores& stores, const Config& config);
  ~Housekeeping();
  void start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::app

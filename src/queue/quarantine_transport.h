// The quarantine transport: a quarantined message reaches the quarantine store
// through the queue like any delivery, so it is durable on disk before the
// client hears 250 and is stored with the queue's retries if the database is
// down. Retention is per quarantine reason (malware kept longer than spam).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "queue/transport.h"

namespace boost::asio {
class thread_pool;
}
namespace mailmoat::store {
class QuarantineStore;
}

namespace mailmoat::queue {

struct QuarantineRetention {
  std::chrono::seconds fallback{30 * 24 * 3600};
  std::map<std::string, std::chrono::seconds> by_reason;  // "malware" -> 90 days
  std::chrono::seconds for_reason(const std::string& reason) const;
};

class QuarantineTransport : public Transport {
 public:
  QuarantineTransport(boost::asio::thread_pool& pool, store::QuarantineStore& store, QuarantineRetention retention);
  void deliver(DeliveryJob job, Done done) override;
  std::string destination(const DeliveryJob&) const override { return "quarantine"; }

 private:
  boost::asio::thread_pool& pool_;
  store::QuarantineStore& store_;
  QuarantineRetention retention_;
};

}  // namespace mailmoat::queue

#include "queue/quarantine_transport.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "pipeline/chain.h"
#include "store/stores.h"

namespace mailmoat::queue {

std::chrono::seconds QuarantineRetention::for_reason(const std::string& reason) const {
  auto it = by_reason.find(reason);
  return it == by_reason.end() ? fallback : it->second;
}

QuarantineTransport::QuarantineTransport(boost::asio::thread_pool& pool, store::QuarantineStore& store,
                                         QuarantineRetention retention)
    : pool_(pool), store_(store), retention_(std::move(retention)) {}

void QuarantineTransport::deliver(DeliveryJob job, Done done) {
  boost::asio::post(pool_, [this, job = std::move(job), done = std::move(done)]() mutable {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    store::QuarantineItem item;
    item.queue_id = job.queue_id;
    item.reason = job.quarantine_reason;
    item.policy = job.quarantine_policy;
    item.sender = job.sender;
    for (const auto& r : job.recipients) item.recipients.push_back(r.address);
    item.subject = pipeline::header_value(*job.message, "Subject").substr(0, 998);
    item.size = static_cast<std::int64_t>(job.message->size());
    item.created_at = now;
    item.expires_at =
        now + std::chrono::duration_cast<std::chrono::microseconds>(retention_.for_reason(item.reason)).count();
    item.raw = *job.message;
    auto id = store_.put(item);
    RecipientResult result = id ? RecipientResult{RecipientResult::Outcome::delivered,
                                                  "quarantine id " + std::to_string(*id), "quarantine"}
                                : RecipientResult{RecipientResult::Outcome::deferred,
                                                  "451 4.3.0 quarantine store: " + id.error().message, "quarantine"};
    done(std::vector<RecipientResult>(job.recipients.size(), result));
  });
}

}  // namespace mailmoat::queue

#include "queue/maildir_transport.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "queue/delivery/maildir.h"

namespace mailmoat::queue {

MaildirTransport::MaildirTransport(boost::asio::thread_pool& pool, std::string default_base, std::string hostname)
    : pool_(pool), default_base_(std::move(default_base)), hostname_(std::move(hostname)) {}

std::string MaildirTransport::destination(const DeliveryJob& job) const {
  return "maildir:" + (job.next_hop.empty() ? default_base_ : job.next_hop);
}

void MaildirTransport::deliver(DeliveryJob job, Done done) {
  boost::asio::post(pool_, [this, job = std::move(job), done = std::move(done)]() mutable {
    std::string base = job.next_hop.empty() ? default_base_ : job.next_hop;
    std::vector<RecipientResult> results;
    results.reserve(job.recipients.size());
    for (const auto& r : job.recipients)
      results.push_back(deliver_maildir(base, hostname_, job.sender, r.address, *job.message));
    done(std::move(results));
  });
}

}  // namespace mailmoat::queue

// The queue manager: takes durable messages from the front ends, schedules
// deliveries per recipient through the routed transport, retries with
// exponential backoff and jitter up to the message lifetime, bounces failed
// recipients with a DSN, and serves the admin operations (list, show, hold,
// release, retry, delete). It recovers the spool at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "queue/queued_message.h"
#include "queue/spool.h"
#include "queue/transport.h"
#include "pipeline/message_sink.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::queue {

struct Route {
  std::string name;                  // for transport rules' `route` action; may be empty
  std::vector<std::string> domains;  // lower case; "*" matches all
  std::string transport;             // name of a registered transport
  std::string next_hop;
};

struct QueueSettings {
  std::string spool_dir;
  std::string hostname = "localhost";
  std::string node_id = "node";
  std::chrono::seconds retry_base{300};
  std::chrono::seconds retry_max{4000};
  std::chrono::seconds max_lifetime{5 * 24 * 3600};
  std::size_t concurrency = 20;
  std::size_t per_destination = 10;
  // A message just spooled keeps its bytes in memory for its first delivery
  // attempt (no read back from disk) while the copies held add up to at most
  // this much; later attempts and the rest read the spool file.
  std::size_t memory_copy_limit = 64u << 20;
  std::vector<Route> routes;
};

// Observers of what happens to messages (the trace recorder, metrics, tests).
struct QueueEvent {
  std::string queue_id;
  std::string type;  // queued, delivered, deferred, failed, bounced, held, released, deleted, expired,
                     // quarantined (stored in the quarantine store)
  std::string recipient;
  std::string detail;
  // With queued and held: the message as queued, and what the filters noted on the way in.
  std::shared_ptr<const QueuedMessage> message;
  std::vector<pipeline::TraceNote> notes;
};

class QueueManager : public pipeline::MessageSink {
 public:
  QueueManager(boost::asio::io_context& io, QueueSettings settings);
  ~QueueManager() override;

  void add_transport(const std::string& name, std::shared_ptr<Transport> transport);
  void on_event(std::function<void(const QueueEvent&)> observer);

  // Opens the spool and recovers what it holds; fails with a reason.
  util::Result<RecoveryReport> open();
  void start();
  void stop();  // no new deliveries; in-flight ones finish
  std::size_t in_flight() const;

  std::string next_queue_id() override;
  void submit(pipeline::Submission submission, Done done) override;

  std::vector<QueuedMessage> list() const;
  std::optional<QueuedMessage> find(const std::string& id) const;
  bool hold(const std::string& id);
  bool release(const std::string& id);
  bool remove(const std::string& id, const std::string& detail = "by administrator");
  // For holds the gateway places itself (Safe Attachments analysis after
  // queueing): the spooled bytes, a release with a reason of our own or into
  // the quarantine store, and notes for the trace (emitted as events).
  util::Result<std::string> read_message(const std::string& id) const;
  bool release_after(const std::string& id, const std::string& detail);
  bool release_to_quarantine(const std::string& id, const std::string& reason, const std::string& policy);
  void note(const std::string& id, const std::string& type, const std::string& detail);
  // Makes every pending recipient due now; tls_only: only those deferred for a TLS failure.
  std::size_t retry(const std::string& id_or_empty_for_all, bool tls_only = false);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::queue

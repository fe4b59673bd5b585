// dns::Resolver on libunbound (validating, caching, recursive or forwarding),
// driven by the caller's event loop: watch fd() for reading and call process()
// when it is readable; callbacks run inside process(). libunbound is set to
// its threaded mode, so one background thread does all network work (no
// thread and no fork per query). Asio glue is in asio_unbound_resolver.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dns/resolver.h"
#include "util/error.h"

struct ub_ctx;
struct ub_result;

namespace mailmoat::dns::unbound {

struct UnboundConfig {
  // "127.0.0.1@5353" or "192.0.2.53" (port 53); empty = full recursion from the root.
  std::vector<std::string> forwarders;
  std::string trust_anchor_file;  // DNSSEC anchors (DS/DNSKEY lines); empty = no validation
  bool use_tcp = true;            // large TXT answers are truncated over UDP
};

class UnboundResolver : public Resolver {
 public:
  static util::Result<std::unique_ptr<UnboundResolver>> create(const UnboundConfig& config);
  ~UnboundResolver() override;
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  int fd() const;
  // Delivers every finished answer to its callback. Never blocks.
  void process();

  using QueryId = std::uint64_t;
  // Starts a query; its id can be passed to abandon().
  QueryId start(const Question& question, Callback done);
  void resolve(Question question, Callback done) override { start(question, std::move(done)); }
  // Cancels a query still in flight and answers its callback with `status`
  // (the per-query timeout). False if it has already been answered.
  bool abandon(QueryId id, Status status);
  std::size_t in_flight() const;

 private:
  explicit UnboundResolver(ub_ctx* ctx) : ctx_(ctx) {}
  static void on_result(void* data, int err, ub_result* result);
  struct Key {
    UnboundResolver* self;
    QueryId id;
  };
  // The entry owns the key libunbound holds as user data; an abandoned entry
  // whose cancel came too late stays until libunbound delivers its result.
  struct Pending {
    int async_id = 0;
    Callback done;  // empty once abandoned
    std::unique_ptr<Key> key;
  };
  ub_ctx* ctx_;
  std::map<QueryId, Pending> pending_;
  QueryId next_id_ = 1;
};

// Converts one libunbound result to an Answer (exposed for tests).
Answer to_answer(int err, const ub_result* result);

}  // namespace mailmoat::dns::unbound

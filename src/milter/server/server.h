// The milter listeners: Asio, one C++20 coroutine per MTA connection, moving
// packets between the socket and the pure milter::Session. At end of message
// it runs the same FilterChain as the SMTP front end within the listener's
// budget; past it, the listener's policy answers (tempfail, accept unchanged
// and record it, or quarantine to the MTA's hold queue). Nothing is queued by
// mailmoat in this mode: the MTA keeps the message, so a mailmoat restart
// loses nothing (the MTA applies milter_default_action or retries).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/chain.h"
#include "util/error.h"

namespace boost::asio {
class io_context;
}
namespace mailmoat::netio {
class IoPool;
}

namespace mailmoat::milter {

enum class OverBudget { tempfail, accept, quarantine };

struct MilterListenerSettings {
  std::string name = "milter";
  std::string address;  // "host:port"
  int budget_ms = 5000;
  OverBudget over_budget = OverBudget::tempfail;
};

struct MilterServerSettings {
  std::vector<MilterListenerSettings> listeners;
  std::function<bool(const std::string&)> is_relay_client;
  std::uint64_t max_message_size = std::uint64_t{50} * 1024 * 1024;
  int timeout_seconds = 600;  // idle time between packets
  int progress_seconds = 10;  // SMFIR_PROGRESS this often while the chain runs
  std::function<std::string()> next_id;  // mailmoat's id for each message (trace)
  // Told about every message after its replies were sent: the context (as
  // received when the chain did not finish), the verdict and what the MTA was told.
  std::function<void(const pipeline::MessageContext&, const pipeline::Verdict&, const std::string& summary)> on_message;
};

class MilterServer {
 public:
  // Without `loops`, listeners and connections run on `io` (a strand per
  // connection). With a pool (netio/io_pool.h), each loop has its own listening
  // socket per TCP address (SO_REUSEPORT) and runs the connections it accepts; a
  // unix-domain listener accepts on `io` and deals connections to the loops. The
  // pool must outlive the server and be stopped before the server is destroyed.
  MilterServer(boost::asio::io_context& io, MilterServerSettings settings,
               std::shared_ptr<const pipeline::FilterChain> chain, netio::IoPool* loops = nullptr);
  ~MilterServer();
  MilterServer(const MilterServer&) = delete;
  MilterServer& operator=(const MilterServer&) = delete;

  // Binds every listener; returns name -> bound "address:port", or the first failure.
  util::Result<std::vector<std::pair<std::string, std::string>>> listen();
  void start();
  void stop();            // stop accepting; idle connections are closed, messages in progress finish
  void abort_sessions();  // grace period over
  std::size_t active_sessions() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::milter

// Milter mode wiring: the [[milter.listener]] tables become a MilterServer
// that runs the gateway's filter chain for Postfix/Sendmail, with mailmoat's
// ids from the queue's id generator and trace records beside the MTA's
// queue id. With no milter listener configured it does nothing.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/config.h"
#include "app/trace_wiring.h"
#include "milter/server/server.h"
#include "pipeline/message_sink.h"

namespace mailmoat::app {

class MilterFrontEnd {
 public:
  MilterFrontEnd(boost::asio::io_context& io, const Config& cfg, std::shared_ptr<const pipeline::FilterChain> chain,
                 pipeline::MessageSink& ids, GatewayTrace& trace, netio::IoPool* loops = nullptr);
  // name -> bound address; an empty list when milter mode is off.
  util::Result<std::vector<std::pair<std::string, std::string>>> listen();
  void start();
  void stop();
  void abort_sessions();
  std::size_t active_sessions() const;

 private:
  std::unique_ptr<milter::MilterServer> server_;
};

}  // namespace mailmoat::app

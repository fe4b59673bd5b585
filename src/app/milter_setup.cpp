#include "app/milter_setup.h"

#include "util/cidr.h"

namespace mailmoat::app {

namespace {

milter::OverBudget over_budget(const std::string& s) {
  if (s == "accept") return milter::OverBudget::accept;
  if (s == "quarantine") return milter::OverBudget::quarantine;
  return milter::OverBudget::tempfail;
}

}  // namespace

MilterFrontEnd::MilterFrontEnd(boost::asio::io_context& io, const Config& cfg,
                               std::shared_ptr<const pipeline::FilterChain> chain, pipeline::MessageSink& ids,
                               GatewayTrace& trace, netio::IoPool* loops) {
  if (cfg.milter.listeners.empty()) return;
  milter::MilterServerSettings s;
  for (const auto& l : cfg.milter.listeners)
    s.listeners.push_back(milter::MilterListenerSettings{l.name, l.address, static_cast<int>(l.budget_ms),
                                                         over_budget(l.on_budget_exceeded)});
  // The schema checked the networks; an unparsable one cannot reach here.
  std::vector<util::Network> relay;
  for (const auto& n : cfg.smtp.relay_networks)
    if (auto net = util::parse_network(n)) relay.push_back(*net);
  s.is_relay_client = [relay](const std::string& ip) { return util::any_contains(relay, ip); };
  s.max_message_size = static_cast<std::uint64_t>(cfg.smtp.max_message_size);
  s.timeout_seconds = static_cast<int>(cfg.milter.timeout_seconds);
  s.progress_seconds = static_cast<int>(cfg.milter.progress_seconds);
  s.next_id = [&ids] { return ids.next_queue_id(); };
  s.on_message = [&trace](const pipeline::MessageContext& ctx, const pipeline::Verdict& v, const std::string& summary) {
    trace.on_milter_message(ctx, v, summary);
  };
  server_ = std::make_unique<milter::MilterServer>(io, std::move(s), std::move(chain), loops);
}

util::Result<std::vector<std::pair<std::string, std::string>>> MilterFrontEnd::listen() {
  if (!server_) return std::vector<std::pair<std::string, std::string>>{};
  return server_->listen();
}

void MilterFrontEnd::start() {
  if (server_) server_->start();
}

void MilterFrontEnd::stop() {
  if (server_) server_->stop();
}

void MilterFrontEnd::abort_sessions() {
  if (server_) server_->abort_sessions();
}

std::size_t MilterFrontEnd::active_sessions() const { return server_ ? server_->active_sessions() : 0; }

}  // namespace mailmoat::app

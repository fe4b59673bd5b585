#include "app/resolver_setup.h"

#include <boost/asio.hpp>

#include "dns/caching_resolver.h"
#include "dns/unbound/asio_unbound_resolver.h"
#include "dns/unbound/unbound_resolver.h"
#include "dns/zone_resolver.h"

namespace mailmoat::app {

namespace asio = boost::asio;

namespace {

// Serializes every query onto one strand, where the libunbound adaptor lives;
// callbacks run there too, and callers post back to their own strands.
class StrandResolver : public dns::Resolver {
 public:
  StrandResolver(asio::strand<asio::io_context::executor_type> strand,
                 std::unique_ptr<dns::unbound::AsioUnboundResolver> inner)
      : strand_(std::move(strand)), inner_(std::move(inner)) {}
  void resolve(dns::Question q, Callback done) override {
    asio::post(strand_, [this, q = std::move(q), done = std::move(done)]() mutable {
      inner_->resolve(std::move(q), std::move(done));
    });
  }

 private:
  asio::strand<asio::io_context::executor_type> strand_;
  std::unique_ptr<dns::unbound::AsioUnboundResolver> inner_;
};

}  // namespace

util::Result<std::unique_ptr<dns::Resolver>> make_resolver(asio::io_context& io, const Config::Dns& cfg) {
  if (!cfg.zone_files.empty()) {
    auto zone = std::make_unique<dns::ZoneResolver>();
    for (const auto& f : cfg.zone_files)
      if (auto ok = zone->load_file(f); !ok) return util::fail("dns.zone_files: " + ok.error().message);
    return std::unique_ptr<dns::Resolver>(std::move(zone));
  }
  dns::unbound::UnboundConfig uc;
  uc.forwarders = cfg.forwarders;
  uc.trust_anchor_file = cfg.trust_anchor_file;
  auto ub = dns::unbound::UnboundResolver::create(uc);
  if (!ub) return util::fail("dns: " + ub.error().message);
  auto strand = asio::make_strand(io);
  auto adaptor = std::make_unique<dns::unbound::AsioUnboundResolver>(strand, std::move(*ub),
                                                                      std::chrono::milliseconds(cfg.timeout_ms));
  auto strand_resolver = std::make_unique<StrandResolver>(strand, std::move(adaptor));
  if (cfg.cache_entries == 0) return std::unique_ptr<dns::Resolver>(std::move(strand_resolver));
  dns::CacheLimits limits;
  limits.capacity = static_cast<std::size_t>(cfg.cache_entries);
  return std::unique_ptr<dns::Resolver>(std::make_unique<dns::CachingResolver>(std::move(strand_resolver), limits));
}

}  // namespace mailmoat::app

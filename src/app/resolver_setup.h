// Builds the gateway's DNS resolver from [dns]: libunbound on its own strand
// (it is single-threaded), or the zone-file resolver in offline mode.
#pragma once

#include <memory>

#include "app/config.h"
#include "dns/resolver.h"
#include "util/error.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::app {

util::Result<std::unique_ptr<dns::Resolver>> make_resolver(boost::asio::io_context& io, const Config::Dns& cfg);

}  // namespace mailmoat::app

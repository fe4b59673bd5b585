// The write path of the trace: one batch of events becomes a few multi-row
// statements rather than one round trip per event, which is what makes the
// PostgreSQL backend reach its throughput target. Status changes are reduced
// to their final effect per message and recipient first, so each target row is
// touched by at most one source row of a bulk UPDATE.
#pragma once

#include <span>

#include "store/sql/connection.h"
#include "store/types.h"

namespace mailmoat::store::sql {

// Applies `events` in order (the caller holds the transaction): records for
// events carrying MessageInfo, then status changes, then the timeline rows.
util::Result<void> write_trace_batch(Connection& c, std::span<const TraceEvent> events);

}  // namespace mailmoat::store::sql

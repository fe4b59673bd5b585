#include "store/types.h"

#include <array>

namespace mailmoat::store {
namespace {

template <typename E, std::size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, 11> kStatus = {
    "received", "analyzing", "delivered", "deferred", "failed", "quarantined", "filtered_as_spam",
    "rejected", "redirected", "expanded", "deleted"};
constexpr std::array<std::string_view, 3> kDirection = {"inbound", "outbound", "internal"};
constexpr std::array<std::string_view, 12> kEvent = {
    "received", "authentication", "rule_hit", "link_rewritten", "attachment_verdict", "quarantined",
    "delivery_attempt", "dsn_sent", "released", "deleted", "status_changed", "note"};
constexpr std::array<std::string_view, 3> kQuarantineState = {"held", "released", "deleted"};
constexpr std::array<std::string_view, 3> kClickAction = {"allowed", "blocked", "clicked_through"};

}  // namespace

Micros SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view to_string(TraceStatus s) { return kStatus.at(static_cast<std::size_t>(s)); }
std::string_view to_string(Direction d) { return kDirection.at(static_cast<std::size_t>(d)); }
std::string_view to_string(EventType t) { return kEvent.at(static_cast<std::size_t>(t)); }
std::string_view to_string(QuarantineState s) { return kQuarantineState.at(static_cast<std::size_t>(s)); }
std::string_view to_string(ClickAction a) { return kClickAction.at(static_cast<std::size_t>(a)); }

std::optional<TraceStatus> parse_trace_status(std::string_view s) { return parse_name<TraceStatus>(kStatus, s); }
std::optional<Direction> parse_direction(std::string_view s) { return parse_name<Direction>(kDirection, s); }
std::optional<EventType> parse_event_type(std::string_view s) { return parse_name<EventType>(kEvent, s); }
std::optional<QuarantineState> parse_quarantine_state(std::string_view s) {
  return parse_name<QuarantineState>(kQuarantineState, s);
}
std::optional<ClickAction> parse_click_action(std::string_view s) { return parse_name<ClickAction>(kClickAction, s); }

}  // namespace mailmoat::store

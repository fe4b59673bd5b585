// Plain value types of the store layer (DESIGN.md §2, issue 10): message trace
// records and their timeline, quarantine items, clicks, DMARC aggregate rows,
// audit entries. Times are microseconds since the Unix epoch (UTC) so both
// backends store the same BIGINT and sort the same way. No behaviour here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::store {

using Micros = std::int64_t;  // microseconds since 1970-01-01T00:00:00Z

// The store never reads the system clock itself: callers inject one, tests pin it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros now() const = 0;
};
class SystemClock final : public Clock {
 public:
  Micros now() const override;
};

enum class TraceStatus {
  received, analyzing, delivered, deferred, failed, quarantined, filtered_as_spam,
  rejected, redirected, expanded, deleted
};
enum class Direction { inbound, outbound, internal };
enum class EventType {
  received, authentication, rule_hit, link_rewritten, attachment_verdict, quarantined,
  delivery_attempt, dsn_sent, released, deleted, status_changed, note
};

std::string_view to_string(TraceStatus s);
std::string_view to_string(Direction d);
std::string_view to_string(EventType t);
std::optional<TraceStatus> parse_trace_status(std::string_view s);
std::optional<Direction> parse_direction(std::string_view s);
std::optional<EventType> parse_event_type(std::string_view s);

// Facts known when a message is accepted; they create one record per recipient.
struct MessageInfo {
  std::string sender;
  std::vector<std::string> recipients;
  std::string subject;
  std::string message_id;  // the Message-ID header field, without brackets or with, as seen
  std::string client_ip;
  Direction direction = Direction::inbound;
  std::int64_t size = 0;
};

// One entry of a message's timeline. An event with `message` creates the records;
// an event with `status` moves the status of `recipient` (or of every recipient of
// the message when `recipient` is empty). `detail` is a JSON text the store keeps as is.
struct TraceEvent {
  std::string trace_id;  // the gateway's id for the message (queue id)
  Micros at = 0;
  EventType type = EventType::note;
  std::string recipient;
  std::optional<TraceStatus> status;
  std::string detail;
  std::optional<MessageInfo> message;
};

// One message and recipient, as a search returns it.
struct TraceRecord {
  std::string trace_id;
  std::string recipient;
  std::string sender;
  std::string subject;
  std::string message_id;
  std::string client_ip;
  Direction direction = Direction::inbound;
  TraceStatus status = TraceStatus::received;
  std::int64_t size = 0;
  Micros received_at = 0;
  Micros updated_at = 0;
};

// Every filter is optional. `sender` and `recipient` accept `*` as "any run of
// characters" and match case-insensitively (ASCII); every other character,
// including SQL's % and _, is literal. `subject_words` must all occur in the subject.
struct TraceQuery {
  std::optional<std::string> sender;
  std::optional<std::string> recipient;
  std::optional<Micros> since;  // received_at >= since
  std::optional<Micros> until;  // received_at < until
  std::optional<TraceStatus> status;
  std::optional<std::string> message_id;
  std::vector<std::string> subject_words;
  std::optional<std::string> client_ip;
  std::optional<Direction> direction;
  std::size_t limit = 50;
  std::string cursor;  // from a previous page's next_cursor; empty for the first page
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty when there is no further page
};

struct StoredEvent {
  std::string trace_id;
  Micros at = 0;
  EventType type = EventType::note;
  std::string recipient;
  std::optional<TraceStatus> status;
  std::string detail;
};

struct TraceDetail {
  std::vector<TraceRecord> records;  // one per recipient
  std::vector<StoredEvent> events;   // in the order they were recorded
};

// Messages (records) received in one UTC hour with one direction and status.
struct HourlyCount {
  Micros hour = 0;  // start of the hour
  Direction direction = Direction::inbound;
  TraceStatus status = TraceStatus::received;
  std::int64_t count = 0;
};

enum class QuarantineState { held, released, deleted };
std::string_view to_string(QuarantineState s);
std::optional<QuarantineState> parse_quarantine_state(std::string_view s);

struct QuarantineItem {
  std::int64_t id = 0;  // assigned by the store
  std::string queue_id;
  std::string reason;  // e.g. "spam", "phish", "malware"
  std::string policy;  // the rule or policy that quarantined it
  std::string sender;
  std::vector<std::string> recipients;
  std::string subject;
  std::int64_t size = 0;
  Micros created_at = 0;
  Micros expires_at = 0;
  std::string raw;         // the message as received; empty when spool_path is used
  std::string spool_path;  // where the message is kept when it is not in the store
  QuarantineState state = QuarantineState::held;
  Micros state_changed_at = 0;
  std::string state_changed_by;
  std::vector<std::string> released_to;
};

struct QuarantineQuery {
  std::optional<QuarantineState> state;
  std::optional<std::string> reason;
  std::optional<std::string> sender;     // `*` wildcards, as in TraceQuery
  std::optional<std::string> recipient;  // `*` wildcards, matched against each recipient
  std::optional<Micros> since;
  std::optional<Micros> until;
  std::size_t limit = 50;
  std::string cursor;
};

enum class ClickAction { allowed, blocked, clicked_through };
std::string_view to_string(ClickAction a);
std::optional<ClickAction> parse_click_action(std::string_view s);

struct ClickRecord {
  std::int64_t id = 0;
  Micros at = 0;
  std::string recipient;
  std::string message_id;
  std::string url;
  std::string verdict;  // e.g. "clean", "malicious", "suspicious"
  std::vector<std::string> reasons;
  ClickAction action = ClickAction::allowed;
  std::string client_ip;
  std::string user_agent;
};

struct ClickQuery {
  std::optional<std::string> recipient;  // `*` wildcards
  std::optional<std::string> url_contains;
  std::optional<Micros> since;
  std::size_t limit = 50;
  std::string cursor;
};

// One row of a DMARC aggregate report (RFC 7489 appendix C "record"): identical
// rows of one UTC day are counted together.
struct DmarcRow {
  std::int64_t day = 0;  // UTC days since the epoch
  std::string source_ip;
  std::string header_from;
  std::string envelope_from;
  std::string spf_domain;
  std::string spf_result;
  std::string dkim_domain;
  std::string dkim_selector;
  std::string dkim_result;
  std::string disposition;  // none, quarantine, reject
  std::string dmarc_dkim;   // policy_evaluated dkim: pass/fail
  std::string dmarc_spf;    // policy_evaluated spf: pass/fail
  std::int64_t count = 1;
};

// One counted TLS-RPT session result (RFC 8460 §4): per UTC day, policy
// domain and the facts the aggregate report groups by. An empty result_type
// is a successful session; failures carry a §4.3 result type.
struct TlsRptRow {
  std::int64_t day = 0;  // UTC days since the epoch
  std::string policy_domain;
  std::string policy_type;    // tlsa, sts, no-policy-found
  std::string policy_string;  // '\n'-separated policy lines
  std::string mx_host;        // '\n'-separated MX patterns of an STS policy
  std::string result_type;    // "" for success
  std::string sending_ip;
  std::string receiving_mx;
  std::string receiving_ip;
  std::string reason;
  std::int64_t count = 1;
};

struct AuditEntry {
  std::int64_t id = 0;
  Micros at = 0;
  std::string actor;
  std::string action;
  std::string target;
  std::string detail;
};

}  // namespace mailmoat::store

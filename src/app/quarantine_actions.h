// The quarantine actions beyond release and delete (issue 10): a safe preview
// (headers decoded, text shown, HTML reduced to text, attachments listed with
// the verdicts the trace recorded; nothing executed, nothing fetched), "allow
// the sender" and "report as false positive". Both are kept in the shared
// store's settings (keys "sender_allow:ADDRESS" and "false_positive:ID"), so
// every node sharing the store sees them; docs/decisions.md says why settings
// rather than new tables. Every action is audited.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <chrono>
#include <condition_variable>
#include <expected>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/stores.h"
#include "util/error.h"

namespace mailmoat::app {

class QuarantineService;

inline constexpr const char* kSenderAllowPrefix = "sender_allow:";
inline constexpr const char* kFalsePositivePrefix = "false_positive:";

// An error with the HTTP status the API answers it with.
struct ActionError {
  int status = 400;
  std::string message;
};
template <typename T>
using ActionResult = std::expected<T, ActionError>;

struct FalsePositive {
  std::int64_t id = 0;  // quarantine item
  std::string queue_id, sender, subject, reason, by, note;
  std::int64_t at = 0;  // microseconds since the epoch
};

class QuarantineActions {
 public:
  QuarantineActions(QuarantineService& service, store::TraceStore& trace, store::Settings& settings,
                    store::AuditLog& audit, std::function<void()> allow_list_changed = {});

  // The preview object of the API contract. Malware items need `admin`.
  ActionResult<nlohmann::json> preview(std::int64_t id, const std::string& actor, bool admin);
  // Adds the item's envelope sender to the shared sender allow list; returns it.
  ActionResult<std::string> allow_sender(std::int64_t id, const std::string& actor);
  ActionResult<FalsePositive> report_false_positive(std::int64_t id, const std::string& actor, const std::string& note);
  util::Result<std::vector<FalsePositive>> false_positives();

 private:
  ActionResult<store::QuarantineItem> held_or_released(std::int64_t id);
  void audit(const std::string& actor, const std::string& action, std::int64_t id, const std::string& detail);
  QuarantineService& service_;
  store::TraceStore& trace_;
  store::Settings& settings_;
  store::AuditLog& audit_;
  std::function<void()> allow_list_changed_;
};

// The sender allow list kept in the shared store, as the connection filter
// reads it: a background thread reloads it every `interval` (the SMTP path
// never waits on the database for it; a store error keeps the last list), and
// refresh() reloads at once after this node changed it.
class SharedSenderAllowList {
 public:
  SharedSenderAllowList(store::Settings& settings, std::chrono::milliseconds interval);
  ~SharedSenderAllowList();
  std::shared_ptr<const std::vector<std::string>> current() const;
  void refresh();
  // Addresses (or domains) from settings entries, lower case.
  static std::vector<std::string> from_settings(const std::vector<std::pair<std::string, std::string>>& all);

 private:
  void run();
  store::Settings& settings_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::shared_ptr<const std::vector<std::string>> list_;
  std::thread thread_;
};

}  // namespace mailmoat::app

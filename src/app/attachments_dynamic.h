// Dynamic Delivery's gateway side (issue 9, docs/attachments.md): the outcome
// store (data_dir/attachments/dynamic: <id>.json with the verdict, and the
// original message <id>.eml once proven clean) and the public GET /v1/a route
// the placeholder links point at. The route serves a clean attachment with its
// declared type as a download (nosniff), a blocked page for a malicious one, and
// a "being scanned" page while the original is still held in the queue.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "http/router.h"
#include "links/attachment_token.h"
#include "queue/manager.h"
#include "util/error.h"

namespace mailmoat::app {

class DynamicStore {
 public:
  explicit DynamicStore(std::string directory);
  struct Outcome {
    std::string verdict;  // clean | malicious
    std::string reason;
  };
  // Durably records the outcome for original `id`; with `clean`, also its bytes.
  util::Result<void> save(const std::string& id, const Outcome& outcome, std::string_view original);
  std::optional<Outcome> outcome(const std::string& id) const;
  std::optional<std::string> original(const std::string& id) const;
  // Removes the outcomes and originals (and stray temporary files) last
  // written before `cutoff`; returns how many originals' records went.
  std::size_t expire(std::filesystem::file_time_type cutoff);
  const std::string& directory() const { return dir_; }

 private:
  std::string dir_;
};

// Queue ids as the store accepts them in file names (letters, digits, '.', '-', '_').
bool safe_id(std::string_view id);

void add_attachment_link_routes(http::Router& router, std::shared_ptr<const links::AttachmentLinkSigner> signer,
                                std::shared_ptr<DynamicStore> store, queue::QueueManager& queue);

}  // namespace mailmoat::app

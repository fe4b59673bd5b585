// The `links` filter (Safe Links, docs/links.md): rewrites every web link of a
// message to a signed link to the click-time service, under the policy of its
// recipients. It runs after auth and rules (authentication sees the message as
// received) and before signing, which ARC-seals the modified message. With
// wait-for-verdict, each URL is judged at delivery and a malicious one
// quarantines the message. Nothing is ever fetched at delivery time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "links/mime_rewrite.h"
#include "links/policy.h"
#include "links/token.h"
#include "links/verdict.h"
#include "pipeline/filter.h"

namespace mailmoat::filters {

struct LinksConfig {
  std::shared_ptr<const links::LinkSigner> signer;
  links::LinkPolicy default_policy;
  std::vector<links::LinkPolicy> policies;
  links::RewriteOptions rewrite;
  std::vector<std::string> internal_domains;         // lower case; sender and recipients all here = internal mail
  std::shared_ptr<links::VerdictEngine> verdicts;    // for wait_for_verdict; may be null
};

// The policy for a message: of its recipients' policies, the one with the lowest priority number.
const links::LinkPolicy& message_policy(const LinksConfig& config, const pipeline::Envelope& envelope);

class LinksFilter : public pipeline::Filter {
 public:
  explicit LinksFilter(LinksConfig config);
  std::string name() const override { return "links"; }
  void on_message(pipeline::MessageContext& context, Done done) override;

 private:
  bool internal_address(const std::string& address) const;
  LinksConfig config_;
};

}  // namespace mailmoat::filters

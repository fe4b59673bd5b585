#include "filters/links/links_filter.h"

#include <algorithm>

#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::filters {

namespace {

std::string domain_of(const std::string& address) {
  std::size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

const links::LinkPolicy& message_policy(const LinksConfig& config, const pipeline::Envelope& envelope) {
  const links::LinkPolicy* best = &config.default_policy;
  bool from_list = false;
  for (const auto& r : envelope.recipients) {
    const links::LinkPolicy& p = links::policy_for(config.policies, r.address, config.default_policy);
    if (&p == &config.default_policy) continue;
    if (!from_list || p.priority < best->priority) best = &p;
    from_list = true;
  }
  return *best;
}

LinksFilter::LinksFilter(LinksConfig config) : config_(std::move(config)) {}

bool LinksFilter::internal_address(const std::string& address) const {
  std::string d = domain_of(address);
  return !d.empty() &&
         std::find(config_.internal_domains.begin(), config_.internal_domains.end(), d) != config_.internal_domains.end();
}

void LinksFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  const links::LinkPolicy& policy = message_policy(config_, ctx.envelope);
  if (!policy.enabled) {
    ctx.notes.push_back({"links", "links_not_rewritten", "policy " + policy.name + " is off"});
    return done(pipeline::Verdict::accept());
  }
  const bool recipients_internal =
      std::all_of(ctx.envelope.recipients.begin(), ctx.envelope.recipients.end(),
                  [this](const pipeline::EnvelopeRecipient& r) { return internal_address(r.address); });
  // Links protect our recipients: mail leaving for other domains keeps the sender's links.
  if ((ctx.connection.role == "relay" || ctx.connection.role == "submission") && !recipients_internal) {
    ctx.notes.push_back({"links", "links_not_rewritten", "outgoing mail"});
    return done(pipeline::Verdict::accept());
  }
  if (!policy.rewrite_internal && recipients_internal && internal_address(ctx.envelope.sender)) {
    ctx.notes.push_back({"links", "links_not_rewritten", "internal mail (policy " + policy.name + ")"});
    return done(pipeline::Verdict::accept());
  }
  // One body for every recipient: the recipient token names the recipient only when there is one;
  // otherwise the link names the policy chosen for the message, so the click is judged by it.
  links::LinkFields fields;
  fields.message = ctx.queue_id;
  if (ctx.envelope.recipients.size() == 1) fields.recipient = ctx.envelope.recipients.front().address;
  else if (&policy != &config_.default_policy) fields.policy = policy.name;

  std::vector<std::string> malicious;
  auto make_link = [&](const std::string& url) -> std::optional<std::string> {
    if (config_.signer->is_own_link(url)) return std::nullopt;
    auto parts = links::parse_url(url);
    if (parts && links::in_do_not_rewrite(policy, url, *parts)) return std::nullopt;
    if (policy.wait_for_verdict && config_.verdicts) {
      links::UrlVerdict v = config_.verdicts->evaluate(url);
      if (v.rating == links::Rating::malicious)
        malicious.push_back(url + " (" + join(v.reasons) + (v.list_entry.empty() ? "" : "; " + v.list_entry) + ")");
    }
    fields.url = url;
    return config_.signer->wrap(fields);
  };
  // Rewrite what the next hop will get: the message with the edits queued so far.
  std::string current = ctx.message;
  pipeline::apply_edits(current, ctx.edits);
  links::RewriteOutcome outcome = links::rewrite_message(current, config_.rewrite, make_link);
  for (const auto& n : outcome.notes) ctx.notes.push_back({"links", "links_left", n});
  if (outcome.body) {
    ctx.message = std::move(current);
    ctx.edits.headers.clear();
    ctx.edits.body = std::move(*outcome.body);
  }
  ctx.notes.push_back({"links", "links_rewritten",
                       std::to_string(outcome.rewritten) + " rewritten, " + std::to_string(outcome.left_by_policy) +
                           " left by policy, " + std::to_string(outcome.left_over_cap) + " over the cap (policy " +
                           policy.name + ")"});
  if (!malicious.empty()) {
    pipeline::Verdict v;
    v.disposition = pipeline::Disposition::quarantine;
    v.filter = "links";
    v.category = "phish";
    v.reason = "malicious link at delivery: " + join(malicious);
    return done(std::move(v));
  }
  done(pipeline::Verdict::accept());
}

}  // namespace mailmoat::filters

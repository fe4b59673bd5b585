#include "filters/signing/signing_filter.h"

#include <algorithm>

#include "mail/address.h"
#include "mail/message.h"
#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::filters {

namespace dkim = auth::dkim;
namespace arc = auth::arc;

namespace {

bool has_role(const std::vector<std::string>& roles, const std::string& role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string domain_of(const std::string& address) {
  std::size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

}  // namespace

SigningFilter::SigningFilter(SigningConfig config, Clock clock)
    : config_(std::make_shared<const SigningConfig>(std::move(config))), clock_(std::move(clock)) {}

void SigningFilter::reload(SigningConfig config) {
  auto next = std::make_shared<const SigningConfig>(std::move(config));
  std::lock_guard lock(mutex_);
  config_ = std::move(next);
}

std::shared_ptr<const SigningConfig> SigningFilter::current() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void SigningFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  // Edits are normally applied after the chain; signing must see the final
  // bytes, so apply them here (recipient edits are not part of the bytes).
  pipeline::apply_edits(ctx.message, ctx.edits);
  ctx.edits.headers.clear();
  ctx.edits.body.reset();
  const auto config = current();
  if (has_role(config->sign_roles, ctx.connection.role))
    sign(*config, ctx);
  else if (config->sealer && has_role(config->seal_roles, ctx.connection.role))
    seal(*config, ctx);
  done(pipeline::Verdict::accept());
}

void SigningFilter::sign(const SigningConfig& config, pipeline::MessageContext& ctx) {
  if (config.signers.empty()) return;
  auto parsed = mail::Message::parse(ctx.message);
  if (!parsed) {
    ctx.notes.push_back({"signing", "not_signed", "message cannot be parsed: " + parsed.error().message});
    return;
  }
  // The From domain is the identity DMARC aligns with; the envelope sender's
  // domain serves when From has no keys (bounces, list mail).
  auto has_keys = [&](const std::string& d) {
    return std::any_of(config.signers.begin(), config.signers.end(),
                       [&](const dkim::Signer& s) { return util::iequals(s.domain(), d); });
  };
  mail::FromDomain from = mail::from_domain(*parsed);
  std::string domain = from.status == mail::FromStatus::ok ? util::to_lower(from.domain) : std::string();
  if (!has_keys(domain)) domain = domain_of(ctx.envelope.sender);
  if (domain.empty() || !has_keys(domain)) return;

  const std::int64_t now = clock_();
  std::string fields;
  for (const auto& signer : config.signers) {
    if (!util::iequals(signer.domain(), domain)) continue;
    auto field = signer.sign(*parsed, now);
    if (!field) {
      ctx.notes.push_back({"signing", "dkim_failed", "d=" + domain + " s=" + signer.selector() + ": " +
                                                         field.error().message});
      continue;
    }
    fields += *field;
    ctx.notes.push_back({"signing", "dkim_signed", "d=" + domain + " s=" + signer.selector()});
  }
  ctx.message.insert(0, fields);
}

void SigningFilter::seal(const SigningConfig& config, pipeline::MessageContext& ctx) {
  auto parsed = mail::Message::parse(ctx.message);
  if (!parsed) {
    ctx.notes.push_back({"signing", "not_sealed", "message cannot be parsed: " + parsed.error().message});
    return;
  }
  // Seal only what we changed: our Authentication-Results mark the message as
  // modified and are what the AAR carries.
  auto payload = arc::results_for(*parsed, config.authserv_id);
  if (!payload) return;
  arc::ChainValidation cv = arc::ChainValidation::none;
  if (ctx.arc_cv == "pass")
    cv = arc::ChainValidation::pass;
  else if (ctx.arc_cv == "fail")
    cv = arc::ChainValidation::fail;
  else if (ctx.arc_cv.empty() && parsed->count("ARC-Seal") > 0) {
    // An incoming chain we did not (or could not) validate: a seal would vouch blindly.
    ctx.notes.push_back({"signing", "not_sealed", "the incoming ARC chain was not validated"});
    return;
  }
  auto set = config.sealer->seal(*parsed, *payload, cv, clock_());
  if (!set) {
    ctx.notes.push_back({"signing", "arc_failed", set.error().message});
    return;
  }
  if (!*set) {
    ctx.notes.push_back({"signing", "not_sealed", "the chain takes no further set (cv=fail or 50 sets)"});
    return;
  }
  ctx.notes.push_back({"signing", "arc_sealed", "i=" + std::to_string((*set)->instance) + " cv=" +
                                                    std::string(arc::cv_name(cv))});
  ctx.message.insert(0, (*set)->fields());
}

}  // namespace mailmoat::filters

#include "auth/arc/headers.h"

#include <map>

#include "auth/dkim/crypto.h"
#include "auth/dkim/tag_list.h"
#include "util/strings.h"

namespace mailmoat::auth::arc {
namespace {

util::Result<int> instance_value(std::string_view v) {
  auto n = util::parse_uint(v);
  if (!n || *n < 1 || *n > static_cast<std::uint64_t>(kMaxInstances))
    return util::fail("invalid instance i=" + std::string(v));
  return static_cast<int>(*n);
}

util::Result<int> tag_instance(const dkim::TagList& tags) {
  auto i = tags.value("i");
  if (!i) return util::fail("missing tag i=");
  return instance_value(*i);
}

}  // namespace

std::string_view cv_name(ChainValidation cv) {
  switch (cv) {
    case ChainValidation::none: return "none";
    case ChainValidation::pass: return "pass";
    case ChainValidation::fail: return "fail";
  }
  return "none";
}

util::Result<int> parse_aar_instance(std::string_view value) {
  std::string_view v = util::trim(value);
  if (!v.starts_with("i=")) return util::fail("ARC-Authentication-Results does not begin with i=");
  std::size_t semi = v.find(';');
  if (semi == std::string_view::npos) return util::fail("ARC-Authentication-Results has no ';' after i=");
  return instance_value(util::trim(v.substr(2, semi - 2)));
}

util::Result<dkim::Signature> parse_message_signature(std::string_view value, int& instance) {
  auto tags = dkim::TagList::parse(value);
  if (!tags) return std::unexpected(tags.error());
  auto i = tag_instance(*tags);
  if (!i) return std::unexpected(i.error());
  instance = *i;
  auto s = dkim::parse_common_signature_tags(*tags, true, false);
  if (!s) return s;
  // Without c= an AMS is relaxed/relaxed, as every ARC sealer writes it; the
  // DKIM default (simple/simple) fails the suite's ams_fields_c_na.
  if (!tags->find("c")) s->header_canon = s->body_canon = dkim::Canon::relaxed;
  for (const auto& h : s->signed_headers)
    if (util::iequals(h, "ARC-Seal")) return util::fail("ARC-Message-Signature h= includes ARC-Seal");
  s->identity = "@" + s->domain;
  return s;
}

util::Result<Seal> parse_seal(std::string_view value) {
  auto tags = dkim::TagList::parse(value);
  if (!tags) return std::unexpected(tags.error());
  Seal seal;
  auto i = tag_instance(*tags);
  if (!i) return std::unexpected(i.error());
  seal.instance = *i;
  for (std::string_view name : {"a", "b", "cv", "d", "s"})
    if (!tags->find(name)) return util::fail("ARC-Seal missing tag " + std::string(name) + "=");
  if (tags->find("h")) return util::fail("ARC-Seal must not have h=");
  auto alg = dkim::parse_algorithm(*tags->value("a"));
  if (!alg) return util::fail("unsupported algorithm a=" + std::string(*tags->value("a")));
  seal.algorithm = *alg;
  auto b = dkim::base64_decode(*tags->value("b"));
  if (!b || b->empty()) return util::fail("bad base64 in ARC-Seal b=");
  seal.signature = std::move(*b);
  std::string_view cv = *tags->value("cv");
  if (cv == "none") seal.cv = ChainValidation::none;
  else if (cv == "pass") seal.cv = ChainValidation::pass;
  else if (cv == "fail") seal.cv = ChainValidation::fail;
  else return util::fail("invalid cv=" + std::string(cv));
  seal.domain = util::to_lower(*tags->value("d"));
  if (!dkim::is_valid_domain(seal.domain)) return util::fail("ARC-Seal d= is not a valid domain name");
  seal.selector = std::string(*tags->value("s"));
  if (seal.selector.empty()) return util::fail("ARC-Seal has an empty s=");
  if (auto t = tags->value("t")) {
    auto n = util::parse_uint(*t);
    if (!n || t->size() > 19) return util::fail("ARC-Seal t= is not a number");
    seal.timestamp = n;
  }
  return seal;
}

util::Result<std::vector<ArcSetFields>> collect_sets(const mail::Message& message) {
  std::map<int, ArcSetFields> by_instance;
  for (const auto& f : message.fields()) {
    const mail::HeaderField** slot = nullptr;
    util::Result<int> instance = 0;
    std::string_view kind;
    if (util::iequals(f.name, "ARC-Authentication-Results")) {
      kind = "ARC-Authentication-Results";
      instance = parse_aar_instance(f.value);
    } else if (util::iequals(f.name, "ARC-Message-Signature") || util::iequals(f.name, "ARC-Seal")) {
      kind = util::iequals(f.name, "ARC-Seal") ? "ARC-Seal" : "ARC-Message-Signature";
      auto tags = dkim::TagList::parse(f.value);
      instance = tags ? tag_instance(*tags) : std::unexpected(tags.error());
    } else {
      continue;
    }
    if (!instance) return util::fail(std::string(kind) + ": " + instance.error().message);
    ArcSetFields& set = by_instance[*instance];
    set.instance = *instance;
    slot = kind == "ARC-Seal" ? &set.seal : kind == "ARC-Message-Signature" ? &set.ams : &set.aar;
    if (*slot) return util::fail("duplicate " + std::string(kind) + " for i=" + std::to_string(*instance));
    *slot = &f;
  }
  std::vector<ArcSetFields> sets;
  for (int i = 1; i <= static_cast<int>(by_instance.size()); ++i) {
    auto it = by_instance.find(i);
    if (it == by_instance.end()) return util::fail("ARC set i=" + std::to_string(i) + " is missing");
    if (!it->second.aar || !it->second.ams || !it->second.seal)
      return util::fail("ARC set i=" + std::to_string(i) + " is incomplete");
    sets.push_back(it->second);
  }
  return sets;
}

}  // namespace mailmoat::auth::arc

#include "links/verdict.h"

#include <idn2.h>
#include <unicode/uspoof.h>

#include <algorithm>

#include "links/token.h"
#include "util/strings.h"

namespace mailmoat::links {

std::string_view to_string(Rating r) {
  switch (r) {
    case Rating::allowed: return "allowed";
    case Rating::suspicious: return "suspicious";
    case Rating::malicious: return "malicious";
  }
  return "allowed";
}

struct VerdictEngine::Spoof {
  USpoofChecker* checker = nullptr;
  ~Spoof() {
    if (checker) uspoof_close(checker);
  }
  std::string skeleton(const std::string& text) const {
    if (!checker) return text;
    UErrorCode status = U_ZERO_ERROR;
    std::string out(text.size() * 4 + 16, '\0');
    int32_t n = uspoof_getSkeletonUTF8(checker, 0, text.c_str(), static_cast<int32_t>(text.size()), out.data(),
                                       static_cast<int32_t>(out.size()), &status);
    if (U_FAILURE(status)) return text;
    out.resize(static_cast<std::size_t>(n));
    return out;
  }
  // True when the host mixes scripts in one label in a way UTS 39 calls unsafe.
  bool mixed(const std::string& utf8) const {
    if (!checker) return false;
    UErrorCode status = U_ZERO_ERROR;
    int32_t result = uspoof_checkUTF8(checker, utf8.c_str(), static_cast<int32_t>(utf8.size()), nullptr, &status);
    return U_SUCCESS(status) && (result & (USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_SCRIPT_CONFUSABLE)) != 0;
  }
};

namespace {

std::string to_unicode(const std::string& host) {
  char* out = nullptr;
  if (idn2_to_unicode_8z8z(host.c_str(), &out, 0) != IDN2_OK || out == nullptr) return host;
  std::string text(out);
  idn2_free(out);
  return text;
}

std::size_t label_count(std::string_view host) { return static_cast<std::size_t>(std::count(host.begin(), host.end(), '.')) + 1; }

bool under(std::string_view host, std::string_view domain) {
  return util::iequals(host, domain) ||
         (host.size() > domain.size() && host[host.size() - domain.size() - 1] == '.' &&
          util::iequals(host.substr(host.size() - domain.size()), domain));
}

}  // namespace

VerdictEngine::VerdictEngine(VerdictOptions options, std::shared_ptr<UrlListFiles> block,
                             std::shared_ptr<UrlListFiles> allow)
    : options_(std::move(options)), block_(std::move(block)), allow_(std::move(allow)), spoof_(std::make_unique<Spoof>()) {
  UErrorCode status = U_ZERO_ERROR;
  spoof_->checker = uspoof_open(&status);
  if (U_FAILURE(status)) spoof_->checker = nullptr;
  if (spoof_->checker) {
    uspoof_setChecks(spoof_->checker, USPOOF_CONFUSABLE | USPOOF_RESTRICTION_LEVEL, &status);
    uspoof_setRestrictionLevel(spoof_->checker, USPOOF_HIGHLY_RESTRICTIVE);
  }
  for (const auto& d : options_.protected_domains)
    protected_skeletons_.emplace_back(util::to_lower(d), spoof_->skeleton(to_unicode(util::to_lower(d))));
}

VerdictEngine::~VerdictEngine() = default;

void VerdictEngine::heuristics(const UrlParts& parts, UrlVerdict& v) const {
  auto flag = [&v](Rating r, std::string reason) {
    v.rating = std::max(v.rating, r);
    v.reasons.push_back(std::move(reason));
  };
  if (parts.ip_literal) flag(Rating::suspicious, "the address is a bare IP address, not a domain name");
  if (!parts.userinfo.empty())
    flag(Rating::suspicious, "the link carries a user name before '@', which hides the real site (" +
                                 parts.host + ")");
  if (parts.ip_literal || parts.host.empty()) return;
  std::string unicode = to_unicode(parts.host);
  bool punycode = parts.host.find("xn--") != std::string::npos;
  if (punycode && spoof_->mixed(unicode))
    flag(Rating::suspicious, "the domain name mixes alphabets (" + unicode + ")");
  for (const auto& [domain, skeleton] : protected_skeletons_) {
    if (under(parts.host, domain)) continue;
    // Compare the last labels of the host with the protected name: "login.paypa1.com" vs "paypal.com".
    std::string_view tail = unicode;
    std::size_t want = label_count(domain);
    for (std::size_t labels = label_count(tail); labels > want; --labels) tail.remove_prefix(tail.find('.') + 1);
    if (spoof_->skeleton(std::string(tail)) == skeleton)
      flag(Rating::malicious, "the domain " + unicode + " imitates " + domain);
  }
  if (label_count(parts.host) > options_.max_subdomain_depth + 2)
    flag(Rating::suspicious, "the domain name has " + std::to_string(label_count(parts.host)) + " levels");
  for (const auto& s : options_.shorteners)
    if (under(parts.host, s)) {
      flag(Rating::suspicious, "the link goes through a URL shortener (" + s + ") that hides the destination");
      v.shortener = s;
    }
}

UrlVerdict VerdictEngine::judge(const std::string& url, const UrlList* block, const UrlList* allow) const {
  UrlVerdict v;
  auto parts = parse_url(url);
  if (!parts) {
    v.rating = Rating::suspicious;
    v.reasons.push_back("the address is not a valid URL: " + parts.error().message);
    return v;
  }
  if (block) {
    if (std::string hit = block->match(url, *parts); !hit.empty()) {
      v.rating = Rating::malicious;
      v.reasons.push_back("the address is on the organization's block list");
      v.list_entry = std::move(hit);
      return v;
    }
  }
  if (allow) {
    if (std::string hit = allow->match(url, *parts); !hit.empty()) {
      v.reasons.push_back("the address is on the organization's allow list");
      v.list_entry = std::move(hit);
      return v;
    }
  }
  heuristics(*parts, v);
  return v;
}

UrlVerdict VerdictEngine::evaluate(const std::string& url) {
  std::uint64_t gen_block = 0, gen_allow = 0;
  auto block = block_ ? block_->current(gen_block) : nullptr;
  auto allow = allow_ ? allow_->current(gen_allow) : nullptr;
  const std::uint64_t generation = gen_block * 1000003u + gen_allow;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (generation != cache_generation_) {
      cache_.clear();
      order_.clear();
      cache_generation_ = generation;
    }
    if (auto it = cache_.find(url); it != cache_.end() && now - it->second.at < options_.cache_ttl) {
      order_.splice(order_.begin(), order_, it->second.order);
      return it->second.verdict;
    }
  }
  UrlVerdict v = judge(url, block.get(), allow.get());
  std::lock_guard lock(mutex_);
  if (auto it = cache_.find(url); it != cache_.end()) {
    order_.erase(it->second.order);
    cache_.erase(it);
  }
  if (options_.cache_entries == 0) return v;
  order_.push_front(url);
  cache_[url] = Cached{v, now, order_.begin()};
  while (cache_.size() > options_.cache_entries) {
    cache_.erase(order_.back());
    order_.pop_back();
  }
  return v;
}

}  // namespace mailmoat::links

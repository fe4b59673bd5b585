#include "auth/dmarc/psl.h"

#include <libpsl.h>

#include <cstdlib>

#include "util/strings.h"

namespace mailmoat::auth::dmarc {

struct PublicSuffixList::Impl {
  psl_ctx_t* ctx = nullptr;
  bool owned = false;
  ~Impl() {
    if (owned) psl_free(ctx);
  }
};

PublicSuffixList::PublicSuffixList(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicSuffixList::PublicSuffixList(PublicSuffixList&&) noexcept = default;
PublicSuffixList& PublicSuffixList::operator=(PublicSuffixList&&) noexcept = default;
PublicSuffixList::~PublicSuffixList() = default;

util::Result<PublicSuffixList> PublicSuffixList::system() {
  auto impl = std::make_unique<Impl>();
  impl->ctx = psl_latest(nullptr);  // newest of the system file and the built-in data
  impl->owned = true;
  if (!impl->ctx) {
    impl->ctx = const_cast<psl_ctx_t*>(psl_builtin());
    impl->owned = false;
  }
  if (!impl->ctx) return util::fail("no Public Suffix List available (install the publicsuffix package)");
  return PublicSuffixList(std::move(impl));
}

util::Result<PublicSuffixList> PublicSuffixList::load_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = psl_load_file(path.c_str());
  impl->owned = true;
  if (!impl->ctx) return util::fail(path + ": cannot load the Public Suffix List");
  return PublicSuffixList(std::move(impl));
}

std::string PublicSuffixList::registrable_domain(std::string_view domain) const {
  std::string name(domain);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.front() == '.') return {};
  char* lower = nullptr;
  if (psl_str_to_utf8lower(name.c_str(), "utf-8", nullptr, &lower) != PSL_SUCCESS || !lower) return {};
  const char* reg = psl_registrable_domain(impl_->ctx, lower);
  std::string out = reg ? reg : "";
  psl_free_string(lower);
  return out;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string reg = registrable_domain(domain);
  return reg.empty() ? util::to_lower(domain) : reg;
}

}  // namespace mailmoat::auth::dmarc

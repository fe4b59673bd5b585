// Organizational domains from the Public Suffix List (RFC 7489 §3.2), for
// DMARC's RFC 7489 compatibility mode. Wraps libpsl; by default it loads the
// list Debian's `publicsuffix` package installs, else libpsl's built-in copy.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/error.h"

namespace mailmoat::auth::dmarc {

class PublicSuffixList {
 public:
  static util::Result<PublicSuffixList> system();  // the distribution's list
  static util::Result<PublicSuffixList> load_file(const std::string& path);  // a .dat file
  PublicSuffixList(PublicSuffixList&&) noexcept;
  PublicSuffixList& operator=(PublicSuffixList&&) noexcept;
  ~PublicSuffixList();

  // The registrable domain (public suffix + one label), lower case; "" when
  // `domain` is itself a public suffix or not a valid name.
  std::string registrable_domain(std::string_view domain) const;
  // RFC 7489 §3.2: the registrable domain, or the domain itself when it has none.
  std::string organizational_domain(std::string_view domain) const;

 private:
  struct Impl;
  explicit PublicSuffixList(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailmoat::auth::dmarc

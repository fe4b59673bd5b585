// An in-memory Resolver over RFC 1035 master-file data, for unit tests,
// conformance suites and offline use (`mailmoat check --zone`). It answers
// synchronously inside resolve(), follows CNAMEs (up to 8), and can be told
// that a name SERVFAILs or times out: such a failure applies to every query
// for that name whose type has no records there (the OpenSPF suite's TIMEOUT).
// Once loaded, resolve() may run on several threads at once (the gateway's
// I/O threads with dns.zone_files): the records are only read, the query
// count is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.h"
#include "util/error.h"

namespace mailmoat::dns {

class ZoneResolver : public Resolver {
 public:
  static constexpr std::uint32_t default_ttl = 3600;

  ZoneResolver() = default;
  // Movable while it is being built (helpers return one); the count moves along.
  ZoneResolver(ZoneResolver&& o) noexcept
      : nodes_(std::move(o.nodes_)), authenticated_(o.authenticated_), queries_(o.queries()) {}

  // Master-file text (zone_file.h); names relative to `origin` ("" = root).
  // Errors read "SOURCE:LINE: reason"; records before the error are kept.
  util::Result<void> load(std::string_view text, std::string_view origin = "",
                          std::string_view source = "zone");
  util::Result<void> load_file(const std::string& path, std::string_view origin = "");

  void add_a(std::string_view name, std::string_view address, std::uint32_t ttl = default_ttl);
  void add_aaaa(std::string_view name, std::string_view address, std::uint32_t ttl = default_ttl);
  // One TXT RR made of `strings` (joined without separator when answered).
  void add_txt(std::string_view name, const std::vector<std::string>& strings,
               std::uint32_t ttl = default_ttl);
  void add_txt(std::string_view name, std::string text, std::uint32_t ttl = default_ttl) {
    add_txt(name, std::vector<std::string>{std::move(text)}, ttl);
  }
  void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange,
              std::uint32_t ttl = default_ttl);
  void add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl = default_ttl);
  void add_cname(std::string_view name, std::string_view target, std::uint32_t ttl = default_ttl);
  void add_tlsa(std::string_view name, TlsaRecord record, std::uint32_t ttl = default_ttl);
  // Makes the name exist (queries for absent types give NODATA, not NXDOMAIN).
  void add_name(std::string_view name);
  // Queries for `name` of a type without records there answer `status`
  // (Status::servfail or Status::timeout).
  void fail(std::string_view name, Status status);
  void set_authenticated(bool ad) { authenticated_ = ad; }

  void resolve(Question question, Callback done) override;
  Answer lookup(const Question& question) const;

  std::size_t queries() const { return queries_.load(std::memory_order_relaxed); }
  void reset_query_count() { queries_.store(0, std::memory_order_relaxed); }

 private:
  struct Node {
    std::vector<std::string> a, aaaa, txt, ptr;
    std::vector<MxRecord> mx;
    std::vector<TlsaRecord> tlsa;
    std::optional<std::string> cname;
    std::optional<Status> failure;
    std::uint32_t ttl = default_ttl;
  };
  Node& node(std::string_view name, std::uint32_t ttl);
  static bool has_type(const Node& n, RecordType type);
  static void fill(const Node& n, RecordType type, Answer& out);

  std::map<std::string, Node, std::less<>> nodes_;
  bool authenticated_ = false;
  std::atomic<std::size_t> queries_{0};  // a statistic: no ordering needed
};

// Lower-cases and drops one trailing dot: the key form of a domain name.
std::string canonical_name(std::string_view name);

}  // namespace mailmoat::dns

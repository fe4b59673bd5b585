#include "dns/unbound/unbound_resolver.h"

#include <arpa/inet.h>
#include <unbound.h>

#include <algorithm>
#include <cctype>

namespace mailmoat::dns::unbound {
namespace {

// Decodes an uncompressed wire-format name (libunbound hands out rdata with
// names decompressed); "" on anything malformed.
std::string wire_name(const unsigned char* p, std::size_t len, std::size_t& pos) {
  std::string out;
  while (pos < len) {
    unsigned n = p[pos++];
    if (n == 0) return out;
    if (n > 63 || pos + n > len) break;
    if (!out.empty()) out += '.';
    for (unsigned i = 0; i < n; ++i) out += static_cast<char>(std::tolower(p[pos + i]));
    pos += n;
  }
  return {};
}

void add_rdata(Answer& a, int type, const unsigned char* p, std::size_t len) {
  char buf[INET6_ADDRSTRLEN] = {};
  std::size_t pos = 0;
  switch (static_cast<RecordType>(type)) {
    case RecordType::a:
      if (len == 4 && inet_ntop(AF_INET, p, buf, sizeof buf)) a.addresses.push_back(buf);
      break;
    case RecordType::aaaa:
      if (len == 16 && inet_ntop(AF_INET6, p, buf, sizeof buf)) a.addresses.push_back(buf);
      break;
    case RecordType::txt: {
      std::string text;
      while (pos < len) {
        std::size_t n = p[pos++];
        if (pos + n > len) break;
        text.append(reinterpret_cast<const char*>(p + pos), n);
        pos += n;
      }
      a.txt.push_back(std::move(text));
      break;
    }
    case RecordType::mx:
      if (len >= 3) {
        pos = 2;
        a.mx.push_back(MxRecord{static_cast<std::uint16_t>(p[0] << 8 | p[1]), wire_name(p, len, pos)});
      }
      break;
    case RecordType::ptr:
      if (auto name = wire_name(p, len, pos); !name.empty()) a.names.push_back(std::move(name));
      break;
    case RecordType::tlsa:
      if (len >= 3) a.tlsa.push_back(TlsaRecord{p[0], p[1], p[2], std::string(reinterpret_cast<const char*>(p + 3), len - 3)});
      break;
  }
}

}  // namespace

Answer to_answer(int err, const ub_result* r) {
  Answer a;
  if (err != 0 || !r || r->bogus || r->rcode == 2) {
    a.status = Status::servfail;
    a.bogus = err == 0 && r && r->bogus;
    return a;
  }
  a.authenticated = r->secure != 0;  // a validated NXDOMAIN matters to DANE too
  if (r->nxdomain || r->rcode == 3) {
    a.status = Status::nxdomain;
    a.ttl = static_cast<std::uint32_t>(r->ttl);  // the negative TTL (RFC 2308), for caches
    return a;
  }
  if (r->rcode != 0) {
    a.status = Status::servfail;
    return a;
  }
  a.ttl = static_cast<std::uint32_t>(r->ttl);
  // libunbound's canonname is the end of the CNAME chain (or the qname itself).
  if (r->canonname && r->qname) {
    std::string canon = r->canonname, qname = r->qname;
    for (auto* s : {&canon, &qname})
      std::transform(s->begin(), s->end(), s->begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (canon.ends_with('.')) canon.pop_back();
    if (qname.ends_with('.')) qname.pop_back();
    if (!canon.empty() && canon != qname) a.canonical_name = canon;
  }
  if (r->havedata)
    for (int i = 0; r->data[i]; ++i)
      add_rdata(a, r->qtype, reinterpret_cast<const unsigned char*>(r->data[i]), static_cast<std::size_t>(r->len[i]));
  bool any = !a.addresses.empty() || !a.txt.empty() || !a.mx.empty() || !a.names.empty() || !a.tlsa.empty();
  a.status = any ? Status::ok : Status::nodata;
  if (static_cast<RecordType>(r->qtype) == RecordType::mx)
    std::stable_sort(a.mx.begin(), a.mx.end(), [](auto& x, auto& y) { return x.preference < y.preference; });
  return a;
}

util::Result<std::unique_ptr<UnboundResolver>> UnboundResolver::create(const UnboundConfig& config) {
  ub_ctx* ctx = ub_ctx_create();
  if (!ctx) return util::fail("libunbound: cannot create a context");
  std::unique_ptr<UnboundResolver> self(new UnboundResolver(ctx));
  auto check = [](int rc, const std::string& what) -> util::Result<void> {
    if (rc != 0) return util::fail("libunbound: " + what + ": " + ub_strerror(rc));
    return {};
  };
  if (auto ok = check(ub_ctx_async(ctx, 1), "threaded mode"); !ok) return std::unexpected(ok.error());
  if (auto ok = check(ub_ctx_set_option(ctx, "do-tcp:", config.use_tcp ? "yes" : "no"), "do-tcp"); !ok)
    return std::unexpected(ok.error());
  for (const auto& f : config.forwarders)
    if (auto ok = check(ub_ctx_set_fwd(ctx, f.c_str()), "forwarder " + f); !ok) return std::unexpected(ok.error());
  if (!config.trust_anchor_file.empty())
    if (auto ok = check(ub_ctx_add_ta_file(ctx, config.trust_anchor_file.c_str()), "trust anchor " + config.trust_anchor_file); !ok)
      return std::unexpected(ok.error());
  return self;
}

UnboundResolver::~UnboundResolver() {
  for (auto& [id, p] : pending_) ub_cancel(ctx_, p.async_id);
  ub_ctx_delete(ctx_);
}

int UnboundResolver::fd() const { return ub_fd(ctx_); }

void UnboundResolver::process() { ub_process(ctx_); }

void UnboundResolver::on_result(void* data, int err, ub_result* result) {
  auto* key = static_cast<Key*>(data);
  UnboundResolver* self = key->self;
  auto it = self->pending_.find(key->id);
  Answer answer = to_answer(err, result);
  if (result) ub_resolve_free(result);
  if (it == self->pending_.end()) return;
  Callback done = std::move(it->second.done);
  self->pending_.erase(it);
  if (done) done(std::move(answer));
}

UnboundResolver::QueryId UnboundResolver::start(const Question& question, Callback done) {
  QueryId id = next_id_++;
  auto key = std::make_unique<Key>(Key{this, id});
  int async_id = 0;
  int rc = ub_resolve_async(ctx_, question.name.c_str(), static_cast<int>(question.type), 1, key.get(),
                            &on_result, &async_id);
  if (rc != 0) {
    Answer a;
    a.status = Status::servfail;
    done(std::move(a));
    return id;
  }
  pending_.emplace(id, Pending{async_id, std::move(done), std::move(key)});
  return id;
}

bool UnboundResolver::abandon(QueryId id, Status status) {
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second.done) return false;
  Callback done = std::move(it->second.done);
  if (ub_cancel(ctx_, it->second.async_id) == 0) pending_.erase(it);
  Answer a;
  a.status = status;
  done(std::move(a));
  return true;
}

std::size_t UnboundResolver::in_flight() const {
  std::size_t n = 0;
  for (const auto& [id, p] : pending_) n += p.done ? 1 : 0;
  return n;
}

}  // namespace mailmoat::dns::unbound

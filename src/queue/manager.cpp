#include "queue/manager.h"

#include <boost/asio.hpp>

#include <random>
#include <set>

#include "log/log.h"
#include "pipeline/chain.h"
#include "queue/dsn.h"
#include "util/strings.h"

namespace mailmoat::queue {

namespace asio = boost::asio;
using Outcome = RecipientResult::Outcome;

namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

}  // namespace

struct QueueManager::Impl : std::enable_shared_from_this<QueueManager::Impl> {
  struct Entry {
    QueuedMessage meta;
    std::set<std::size_t> busy;  // recipient indices being delivered now
    bool removed = false;
    std::shared_ptr<const std::string> bytes;  // the message while it waits for its first attempt
  };
  struct WorkItem {
    std::string id;
    std::size_t route = 0;
    std::vector<std::size_t> recipients;
    std::string destination;
    bool quarantine = false;  // into the quarantine store, not to a route
  };

  Impl(asio::io_context& i, QueueSettings st)
      : io(i), s(std::move(st)), spool(s.spool_dir), ids(s.node_id), strand(asio::make_strand(i)), timer(strand) {}

  asio::io_context& io;
  QueueSettings s;
  Spool spool;
  QueueIdGenerator ids;
  // Spool writes block in fsync; many at once let the file system commit them
  // together (a journal batches concurrent fsyncs, and the spool shares one
  // fsync of queue/ among the stores waiting for it), which is group commit
  // without weakening the per-message guarantee.
  asio::thread_pool disk{16};
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  std::map<std::string, std::shared_ptr<Transport>> transports;
  std::vector<std::function<void(const QueueEvent&)>> observers;
  mutable std::mutex mu;
  std::map<std::string, Entry> entries;
  std::map<std::string, std::size_t> dest_active;
  std::size_t active = 0;
  std::size_t memory_copies = 0;  // bytes held in Entry::bytes
  bool stopping = false;
  std::mt19937_64 rng{std::random_device{}()};

  void emit(const std::string& id, const std::string& type, const std::string& rcpt, const std::string& detail) {
    QueueEvent e{id, type, rcpt, detail, nullptr, {}};
    for (const auto& o : observers) o(e);
  }
  void emit(const QueueEvent& e) {
    for (const auto& o : observers) o(e);
  }

  const Route* route_for(const std::string& domain) const {
    for (const auto& r : s.routes)
      for (const auto& d : r.domains)
        if (d == "*" || d == domain) return &r;
    return nullptr;
  }

  const Route* route_named(const std::string& name) const {
    for (const auto& r : s.routes)
      if (r.name == name) return &r;
    return nullptr;
  }

  // A rule's timed hold (meta.hold_until): true while it lasts. When it has
  // ended the message is released once, with an event for the trace.
  bool timed_hold(Entry& e, std::int64_t now, std::int64_t& next_due) {
    if (e.meta.hold_until == 0) return false;
    if (e.meta.hold_until > now) {
      next_due = std::min(next_due, e.meta.hold_until);
      return true;
    }
    e.meta.hold_until = 0;
    emit(e.meta.id, "released", "", "timed hold by transport rule ended");
    return false;
  }

  std::int64_t backoff(int attempts) {
    double base = static_cast<double>(s.retry_base.count());
    double delay = std::min(base * static_cast<double>(1ull << std::min(attempts - 1, 20)),
                            static_cast<double>(s.retry_max.count()));
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(delay * jitter(rng)));
  }

  void kick() {
    asio::post(strand, [self = shared_from_this()] { self->schedule(); });
  }

  // Runs on the strand: starts every due delivery the limits allow, then
  // sleeps until the next retry is due (or a kick).
  void schedule() {
    std::vector<WorkItem> work;
    std::int64_t next_due = INT64_MAX;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      const std::int64_t now = now_unix();
      for (auto& [id, e] : entries) {
        if (e.meta.held || e.removed) continue;
        if (!e.meta.quarantine_reason.empty()) {  // a timed hold delays delivery, not the quarantine
          if (active < s.concurrency) quarantine_work(id, e, now, next_due, work);
          continue;
        }
        if (timed_hold(e, now, next_due)) continue;
        std::map<std::size_t, WorkItem> groups;  // by route index
        for (std::size_t i = 0; i < e.meta.recipients.size(); ++i) {
          auto& r = e.meta.recipients[i];
          if (r.status != RecipientStatus::pending || e.busy.count(i)) continue;
          if (r.next_attempt > now) {
            next_due = std::min(next_due, r.next_attempt);
            continue;
          }
          const Route* route = e.meta.route.empty() ? route_for(domain_of(r.address)) : route_named(e.meta.route);
          if (!route && !e.meta.route.empty()) {
            // The rule named a route the configuration no longer has: an
            // administrator can fix that, so wait rather than bounce.
            r.last_reply = "451 4.3.5 route '" + e.meta.route + "' named by a transport rule is not configured";
            r.next_attempt = now + s.retry_base.count();
            next_due = std::min(next_due, r.next_attempt);
            continue;
          }
          if (!route || !transports.count(route->transport)) {
            r.status = RecipientStatus::failed;
            r.last_reply = "550 5.1.2 no route for domain " + domain_of(r.address);
            continue;
          }
          auto& g = groups[static_cast<std::size_t>(route - s.routes.data())];
          g.id = id;
          g.route = static_cast<std::size_t>(route - s.routes.data());
          g.recipients.push_back(i);
        }
        for (auto& [idx, g] : groups) {
          if (active >= s.concurrency) break;
          const Route& route = s.routes[idx];
          DeliveryJob probe;
          probe.domain = domain_of(e.meta.recipients[g.recipients[0]].address);
          probe.next_hop = route.next_hop;
          // Recipients in other domains of an MX route go separately (one destination per job).
          if (route.transport == "smtp") {
            std::vector<std::size_t> same;
            for (auto i : g.recipients)
              if (domain_of(e.meta.recipients[i].address) == probe.domain) same.push_back(i);
            g.recipients = same;
          }
          g.destination = transports[route.transport]->destination(probe);
          if (dest_active[g.destination] >= s.per_destination) {
            next_due = std::min(next_due, now + 1);
            continue;
          }
          ++dest_active[g.destination];
          ++active;
          for (auto i : g.recipients) e.busy.insert(i);
          work.push_back(g);
        }
        if (active >= s.concurrency) {
          next_due = std::min(next_due, now + 1);
          break;
        }
      }
    }
    for (auto& w : work) start(std::move(w));
    if (next_due != INT64_MAX) {
      timer.expires_at(std::chrono::steady_clock::now() + std::chrono::seconds(std::max<std::int64_t>(0, next_due - now_unix())));
      timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->schedule();
      });
    }
  }

  // A quarantined message has one destination, the quarantine store, whatever
  // its recipients' domains. Without a quarantine transport it stays spooled.
  void quarantine_work(const std::string& id, Entry& e, std::int64_t now, std::int64_t& next_due,
                       std::vector<WorkItem>& work) {
    if (!transports.count("quarantine")) return;
    WorkItem g;
    g.id = id;
    g.quarantine = true;
    g.destination = "quarantine";
    for (std::size_t i = 0; i < e.meta.recipients.size(); ++i) {
      const auto& r = e.meta.recipients[i];
      if (r.status != RecipientStatus::pending || e.busy.count(i)) continue;
      if (r.next_attempt > now) {
        next_due = std::min(next_due, r.next_attempt);
        continue;
      }
      g.recipients.push_back(i);
    }
    if (g.recipients.empty()) return;
    ++dest_active[g.destination];
    ++active;
    for (auto i : g.recipients) e.busy.insert(i);
    work.push_back(std::move(g));
  }

  void start(WorkItem w) {
    std::shared_ptr<const std::string> bytes;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(w.id);
      if (it != entries.end()) bytes = it->second.bytes;
    }
    if (bytes) {
      dispatch(std::move(w), std::move(bytes));  // in memory: no disk read, no hop to the disk pool
      return;
    }
    asio::post(disk, [self = shared_from_this(), w = std::move(w)]() mutable {
      auto read = self->spool.read_message(w.id);
      if (!read) {
        log::error("queue.read_failed", {{"id", w.id}, {"error", read.error().message}});
        self->dispatch(std::move(w), nullptr);
        return;
      }
      self->dispatch(std::move(w), std::make_shared<const std::string>(std::move(*read)));
    });
  }

  // Hands one work item with its message bytes (null: the spool could not be read) to its transport.
  void dispatch(WorkItem w, std::shared_ptr<const std::string> bytes) {
    DeliveryJob job;
    std::shared_ptr<Transport> transport;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(w.id);
      if (it == entries.end() || !bytes) {
        std::vector<RecipientResult> fail(w.recipients.size(),
                                          RecipientResult{Outcome::deferred, "451 4.3.0 spool read failed", ""});
        asio::post(strand, [self = shared_from_this(), w, fail]() mutable { self->finish(w, std::move(fail)); });
        return;
      }
      const QueuedMessage& m = it->second.meta;
      job.queue_id = m.id;
      job.sender = m.envelope.sender;
      job.smtputf8 = m.envelope.smtputf8;
      job.ret = m.envelope.ret;
      job.envid = m.envelope.envid;
      job.requiretls = m.envelope.requiretls;
      job.require_tls = m.require_tls;
      for (auto i : w.recipients)
        job.recipients.push_back({m.recipients[i].address, m.recipients[i].notify, m.recipients[i].orcpt});
      job.domain = domain_of(m.recipients[w.recipients[0]].address);
      if (w.quarantine) {
        job.quarantine_reason = m.quarantine_reason;
        job.quarantine_policy = m.quarantine_policy;
        transport = transports["quarantine"];
      } else {
        job.next_hop = s.routes[w.route].next_hop;
        transport = transports[s.routes[w.route].transport];
      }
    }
    job.message = std::move(bytes);
    transport->deliver(std::move(job), [self = shared_from_this(), w](std::vector<RecipientResult> results) mutable {
      asio::post(self->strand, [self, w = std::move(w), results = std::move(results)]() mutable {
        self->finish(w, std::move(results));
      });
    });
  }

  // Drops the in-memory copy of a message (its first attempt is over, or it is gone); caller holds mu.
  void drop_bytes(Entry& e) {
    if (!e.bytes) return;
    memory_copies -= e.bytes->size();
    e.bytes.reset();
  }

  // On the strand: record what the attempt did, persist, and finish the message if it is done.
  void finish(const WorkItem& w, std::vector<RecipientResult> results) {
    std::optional<QueuedMessage> snapshot;
    bool complete = false;
    {
      std::lock_guard lock(mu);
      --active;
      if (--dest_active[w.destination] == 0) dest_active.erase(w.destination);
      auto it = entries.find(w.id);
      if (it == entries.end()) return;
      Entry& e = it->second;
      drop_bytes(e);  // later attempts read the spool
      const std::int64_t now = now_unix();
      for (std::size_t k = 0; k < w.recipients.size(); ++k) {
        std::size_t i = w.recipients[k];
        e.busy.erase(i);
        auto& r = e.meta.recipients[i];
        const RecipientResult& res = k < results.size() ? results[k] : RecipientResult{};
        r.last_reply = res.reply;
        r.remote = res.remote;
        r.tls_failure = res.outcome == Outcome::deferred && res.tls_failure;
        ++r.attempts;
        switch (res.outcome) {
          case Outcome::delivered:
            r.status = RecipientStatus::delivered;
            emit(e.meta.id, w.quarantine ? "quarantined" : "delivered", r.address, res.remote + ": " + res.reply);
            break;
          case Outcome::failed:
            r.status = RecipientStatus::failed;
            emit(e.meta.id, "failed", r.address, res.remote + ": " + res.reply);
            break;
          case Outcome::deferred:
            if (now - e.meta.received_at >= s.max_lifetime.count()) {
              r.status = RecipientStatus::failed;
              r.last_reply = "message expired after " + std::to_string(s.max_lifetime.count()) +
                             " seconds in the queue; last error: " + res.reply;
              emit(e.meta.id, "expired", r.address, r.last_reply);
            } else {
              r.next_attempt = now + backoff(r.attempts);
              emit(e.meta.id, "deferred", r.address, res.remote + ": " + res.reply);
            }
            break;
        }
        log::info("queue.attempt", {{"id", e.meta.id}, {"to", r.address}, {"remote", res.remote},
                                    {"status", r.status == RecipientStatus::delivered ? "delivered"
                                               : r.status == RecipientStatus::failed  ? "failed"
                                                                                      : "deferred"},
                                    {"reply", res.reply}});
      }
      complete = e.meta.complete() && e.busy.empty();
      snapshot = e.meta;
    }
    // Delivered everywhere, nothing to bounce, and in a segment: done is one short write, no disk-pool hop.
    if (complete && !snapshot->any_failed() && spool.remove_if_in_segment(snapshot->id)) {
      forget(snapshot->id);
      schedule();
      return;
    }
    asio::post(disk, [self = shared_from_this(), meta = std::move(*snapshot), complete]() mutable {
      if (complete) {
        self->finalize(meta);
      } else if (auto saved = self->spool.save_state(meta); !saved) {
        log::error("queue.state_write_failed", {{"id", meta.id}, {"error", saved.error().message}});
      }
      self->kick();
    });
  }

  // On the disk pool: bounce failed recipients, then drop the message from the spool.
  void finalize(const QueuedMessage& meta) {
    if (meta.any_failed()) {
      auto original = spool.read_message(meta.id);
      std::string dsn_id = ids.next(now_micros());
      auto dsn = build_dsn(meta, original ? *original : std::string(), DsnKind::failure, s.hostname, now_unix(), dsn_id);
      if (dsn) {
        QueuedMessage b;
        b.id = dsn_id;
        b.is_dsn = true;
        b.received_at = now_unix();
        b.size = dsn->message.size();
        b.subject = "Undelivered Mail Returned to Sender";
        RecipientState to;
        to.address = dsn->recipient;
        b.recipients.push_back(to);
        b.envelope.recipients.push_back({dsn->recipient, "", ""});
        if (auto stored = spool.store(b, dsn->message); stored) {
          {
            std::lock_guard lock(mu);
            entries[b.id] = Entry{b, {}, false, nullptr};
          }
          emit(meta.id, "bounced", meta.envelope.sender, "DSN " + b.id);
          emit(QueueEvent{b.id, "queued", "", "delivery status notification for " + meta.id,
                          std::make_shared<const QueuedMessage>(b), {}});
          log::info("queue.bounced", {{"id", meta.id}, {"dsn", b.id}, {"to", meta.envelope.sender}});
        } else {
          // Keep the original so the bounce is not lost; try again later.
          log::error("queue.dsn_store_failed", {{"id", meta.id}, {"error", stored.error().message}});
          if (auto saved = spool.save_state(meta); !saved)
            log::error("queue.state_not_saved", {{"id", meta.id}, {"error", saved.error().message}});
          return;
        }
      }
    }
    spool.remove(meta.id);
    forget(meta.id);
  }

  void forget(const std::string& id) {
    std::lock_guard lock(mu);
    if (auto it = entries.find(id); it != entries.end()) {
      drop_bytes(it->second);
      entries.erase(it);
    }
  }

  QueuedMessage meta_from(const pipeline::Submission& sub) {
    const auto& ctx = *sub.context;
    QueuedMessage m;
    m.id = ctx.queue_id.empty() ? ids.next(now_micros()) : ctx.queue_id;
    m.envelope = ctx.envelope;
    m.received_at = now_unix();
    m.client_address = ctx.connection.client_address;
    m.helo = ctx.connection.helo;
    m.listener = ctx.connection.listener;
    m.role = ctx.connection.role;
    m.message_id = pipeline::header_value(ctx.message, "Message-ID").substr(0, 998);
    m.subject = pipeline::header_value(ctx.message, "Subject").substr(0, 998);
    m.size = ctx.message.size();
    m.held = sub.hold;
    if (sub.hold) m.hold_reason = sub.hold_reason;
    m.quarantine_reason = sub.quarantine_reason;
    m.quarantine_policy = sub.quarantine_policy;
    m.route = ctx.delivery.route;
    m.require_tls = ctx.delivery.require_tls;
    m.hold_until = ctx.delivery.hold_until;
    for (const auto& r : ctx.envelope.recipients) {
      RecipientState st;
      st.address = r.address;
      st.notify = r.notify;
      st.orcpt = r.orcpt;
      m.recipients.push_back(std::move(st));
    }
    return m;
  }
};

QueueManager::QueueManager(asio::io_context& io, QueueSettings settings)
    : impl_(std::make_shared<Impl>(io, std::move(settings))) {}

// Joining its own worker cannot fail but by a bug, which ends the process either way (a
// joinable thread left behind terminates it too).
QueueManager::~QueueManager() {  // NOLINT(bugprone-exception-escape)
  stop();
  impl_->disk.join();
}

void QueueManager::add_transport(const std::string& name, std::shared_ptr<Transport> t) {
  impl_->transports[name] = std::move(t);
}

void QueueManager::on_event(std::function<void(const QueueEvent&)> observer) {
  impl_->observers.push_back(std::move(observer));
}

util::Result<RecoveryReport> QueueManager::open() {
  if (auto ok = impl_->spool.open(); !ok) return util::fail(ok.error().message);
  RecoveryReport report = impl_->spool.recover();
  std::lock_guard lock(impl_->mu);
  for (const auto& m : report.messages) impl_->entries[m.id] = Impl::Entry{m, {}, false, nullptr};
  return report;
}

void QueueManager::start() { impl_->kick(); }

void QueueManager::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->stopping = true;
  asio::post(impl_->strand, [impl = impl_] { impl->timer.cancel(); });
}

std::size_t QueueManager::in_flight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->active;
}

std::string QueueManager::next_queue_id() { return impl_->ids.next(now_micros()); }

void QueueManager::submit(pipeline::Submission sub, Done done) {
  auto meta = impl_->meta_from(sub);
  asio::post(impl_->disk, [impl = impl_, meta = std::move(meta), ctx = sub.context, hold_reason = sub.hold_reason,
                           done = std::move(done)]() mutable {
    auto stored = impl->spool.store(meta, ctx->message);
    if (!stored) {
      done(util::fail(stored.error().message));
      return;
    }
    // The hold holds in memory; on disk it is lost if the state file cannot be written.
    if (meta.held)
      if (auto saved = impl->spool.save_state(meta); !saved)
        log::error("queue.state_not_saved", {{"id", meta.id}, {"error", saved.error().message}});
    {
      std::lock_guard lock(impl->mu);
      Impl::Entry entry{meta, {}, false, nullptr};
      // Only for a message due for delivery now: a held one may wait for days.
      if (!meta.held && meta.hold_until == 0 &&
          impl->memory_copies + ctx->message.size() <= impl->s.memory_copy_limit) {
        // The queue owns the bytes from here (MessageSink::submit): moved, not copied.
        entry.bytes = std::make_shared<const std::string>(std::move(ctx->message));
        impl->memory_copies += entry.bytes->size();
      }
      auto& slot = impl->entries[meta.id];
      impl->drop_bytes(slot);
      slot = std::move(entry);
    }
    std::string detail = meta.held ? hold_reason
                         : meta.hold_until ? ctx->delivery.hold_reason
                         : meta.quarantine_reason.empty()
                             ? std::string()
                             : "to quarantine (" + meta.quarantine_reason + "): " + meta.quarantine_policy;
    QueueEvent event{meta.id, meta.held ? "held" : "queued", "", std::move(detail),
                     std::make_shared<const QueuedMessage>(meta), ctx->notes};
    impl->emit(event);
    done({});
    impl->kick();
  });
}

std::vector<QueuedMessage> QueueManager::list() const {
  std::lock_guard lock(impl_->mu);
  std::vector<QueuedMessage> out;
  for (const auto& [id, e] : impl_->entries) out.push_back(e.meta);
  return out;
}

std::optional<QueuedMessage> QueueManager::find(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return std::nullopt;
  return it->second.meta;
}

bool QueueManager::hold(const std::string& id) {
  std::optional<QueuedMessage> snap;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return false;
    it->second.meta.held = true;
    it->second.meta.hold_reason = "by administrator";
    snap = it->second.meta;
  }
  if (auto saved = impl_->spool.save_state(*snap); !saved)
    log::error("queue.state_not_saved", {{"id", id}, {"error", saved.error().message}});
  impl_->emit(id, "held", "", "by administrator");
  return true;
}

bool QueueManager::release(const std::string& id) {
  {
    // An administrator's release also ends a rule's timed hold; the end of an
    // attachment analysis (release_after) does not.
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(id);
    if (it != impl_->entries.end()) it->second.meta.hold_until = 0;
  }
  return release_after(id, "by administrator");
}

bool QueueManager::release_to_quarantine(const std::string& id, const std::string& reason, const std::string& policy) {
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return false;
    it->second.meta.quarantine_reason = reason;
    it->second.meta.quarantine_policy = policy;
  }
  return release_after(id, "to quarantine (" + reason + "): " + policy);
}

util::Result<std::string> QueueManager::read_message(const std::string& id) const {
  return impl_->spool.read_message(id);
}

void QueueManager::note(const std::string& id, const std::string& type, const std::string& detail) {
  impl_->emit(id, type, "", detail);
}

bool QueueManager::release_after(const std::string& id, const std::string& detail) {
  std::optional<QueuedMessage> snap;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return false;
    it->second.meta.held = false;
    it->second.meta.hold_reason.clear();
    for (auto& r : it->second.meta.recipients)
      if (r.status == RecipientStatus::pending) r.next_attempt = 0;
    snap = it->second.meta;
  }
  if (auto saved = impl_->spool.save_state(*snap); !saved)
    log::error("queue.state_not_saved", {{"id", id}, {"error", saved.error().message}});
  impl_->emit(id, "released", "", detail);
  impl_->kick();
  return true;
}

bool QueueManager::remove(const std::string& id, const std::string& detail) {
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return false;
    if (!it->second.busy.empty()) {
      it->second.removed = true;  // finish() will find it gone after the attempt
    }
    impl_->drop_bytes(it->second);
    impl_->entries.erase(it);
  }
  impl_->spool.remove(id);
  impl_->emit(id, "deleted", "", detail);
  return true;
}

std::size_t QueueManager::retry(const std::string& id, bool tls_only) {
  std::size_t n = 0;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [mid, e] : impl_->entries) {
      if (!id.empty() && mid != id) continue;
      for (auto& r : e.meta.recipients)
        if (r.status == RecipientStatus::pending && (!tls_only || r.tls_failure)) {
          r.next_attempt = 0;
          ++n;
        }
    }
  }
  impl_->kick();
  return n;
}

}  // namespace mailmoat::queue

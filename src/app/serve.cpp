#include "app/serve.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/admin_api.h"
#include "app/api_auth.h"
#include "app/attachments_setup.h"
#include "app/config.h"
#include "app/console_api.h"
#include "app/console_static.h"
#include "app/dmarc_reports.h"
#include "app/links_setup.h"
#include "app/metrics.h"
#include "app/milter_setup.h"
#include "app/privileges.h"
#include "app/quarantine_actions.h"
#include "app/quarantine_api.h"
#include "app/quarantine_digest.h"
#include "app/quarantine_service.h"
#include "app/records_setup.h"
#include "app/resolver_setup.h"
#include "app/rules_api.h"
#include "app/rules_setup.h"
#include "app/session_api.h"
#include "app/signing_setup.h"
#include "app/tls_setup.h"
#include "app/tlsrpt_reports.h"
#include "app/trace_wiring.h"
#include "auth/dmarc/psl.h"
#include "filters/auth/auth_filter.h"
#include "filters/partner/partner_filter.h"
#include "filters/rules/disclaimer.h"
#include "http/server.h"
#include "log/log.h"
#include "netio/io_pool.h"
#include "pipeline/chain.h"
#include "queue/maildir_transport.h"
#include "queue/manager.h"
#include "smtp/client/smtp_transport.h"
#include "smtp/server/server.h"
#include "store/recorder/trace_recorder.h"
#include "store/stores.h"
#include "util/errno_message.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void fatal(const std::string& message) { (void)std::fprintf(stderr, "mailmoat: error: %s\n", message.c_str()); }

// The data directory must exist and accept a durable write before we accept mail into it.
std::string check_data_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "data directory " + dir + " cannot be created: " + ec.message();
  std::string probe = (fs::path(dir) / ".write-test").string();
  int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "data directory " + dir + " is not writable: " + util::errno_message(errno);
  bool ok = ::write(fd, "x", 1) == 1 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!ok) return "data directory " + dir + " is not writable: " + util::errno_message(saved);
  return {};
}

std::string check_tls_files(const Config& cfg) {
  for (std::size_t i = 0; i < cfg.smtp.listeners.size(); ++i) {
    const auto& l = cfg.smtp.listeners[i];
    for (const std::string* file : {&l.tls_cert, &l.tls_key}) {
      if (file->empty()) continue;
      std::ifstream in(*file);
      if (!in)
        return "smtp.listener[" + std::to_string(i) + "] (" + l.name + "): cannot read TLS file " + *file + ": " +
               util::errno_message(errno);
    }
  }
  return {};
}


std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

util::Result<smtp::ServerSettings> server_settings(const Config& cfg, const std::string& hostname) {
  smtp::ServerSettings s;
  s.hostname = hostname;
  for (std::size_t i = 0; i < cfg.smtp.listeners.size(); ++i) {
    const auto& l = cfg.smtp.listeners[i];
    smtp::ListenerSettings ls;
    ls.name = l.name;
    ls.address = l.address;
    ls.role = l.role == "relay" ? smtp::Role::relay : l.role == "submission" ? smtp::Role::submission : smtp::Role::inbound;
    ls.line_endings = l.line_endings == "normalize" ? smtp::LineEndings::normalize_lf : smtp::LineEndings::strict;
    auto tls = listener_tls(cfg, i);
    if (!tls) return util::fail(tls.error().message);
    ls.tls = std::move(*tls);
    s.listeners.push_back(ls);
  }
  for (const auto& d : cfg.smtp.accepted_domains) s.accepted_domains.push_back(util::to_lower(d));
  if (!cfg.smtp.recipient_list.empty()) {
    std::ifstream in(cfg.smtp.recipient_list);
    if (!in) return util::fail("smtp.recipient_list: cannot read " + cfg.smtp.recipient_list);
    std::stringstream text;
    text << in.rdbuf();
    auto list = smtp::RecipientList::parse(text.str());
    if (!list) return util::fail(cfg.smtp.recipient_list + ":" + list.error().message);
    s.recipients = std::make_shared<const smtp::RecipientList>(std::move(*list));
  }
  for (const auto& n : cfg.smtp.relay_networks) {
    auto net = util::parse_network(n);
    if (!net) return util::fail("smtp.relay_networks: " + net.error().message);
    s.relay_networks.push_back(*net);
  }
  s.blocked_networks = blocked_networks(cfg);
  for (const auto& b : cfg.connection.sender_block) s.blocked_senders.push_back(util::to_lower(b));
  s.max_recipients = static_cast<std::size_t>(cfg.smtp.max_recipients);
  s.max_errors = static_cast<std::size_t>(cfg.smtp.max_errors);
  s.max_command_line = static_cast<std::size_t>(cfg.smtp.max_command_line);
  s.content.max_message_size = static_cast<std::uint64_t>(cfg.smtp.max_message_size);
  s.content.max_line_length = static_cast<std::size_t>(cfg.smtp.max_line_length);
  s.content.max_header_size = static_cast<std::size_t>(cfg.smtp.max_header_size);
  s.content.long_lines = cfg.smtp.long_lines == "wrap" ? smtp::LongLines::wrap : smtp::LongLines::reject;
  s.max_hops = static_cast<std::size_t>(cfg.smtp.max_hops);
  s.timeout_seconds = static_cast<int>(cfg.smtp.timeout_seconds);
  s.busy_timeout_seconds = static_cast<int>(cfg.smtp.busy_timeout_seconds);
  s.filter_budget_ms = static_cast<int>(cfg.smtp.filter_budget_ms);
  s.connections.max_total = static_cast<std::size_t>(cfg.smtp.max_connections);
  s.connections.max_per_ip = static_cast<std::size_t>(cfg.smtp.max_connections_per_ip);
  s.connections.max_rate_per_ip = static_cast<std::size_t>(cfg.smtp.max_connection_rate_per_ip);
  return s;
}

util::Result<queue::QueueSettings> queue_settings(const Config& cfg, const std::string& hostname) {
  queue::QueueSettings q;
  q.spool_dir = (fs::path(cfg.server.data_dir) / "spool").string();
  q.hostname = hostname;
  q.node_id = cfg.server.node_id.empty() ? queue::sanitize_node_id(hostname) : queue::sanitize_node_id(cfg.server.node_id);
  q.retry_base = std::chrono::seconds(cfg.queue.retry_base_seconds);
  q.retry_max = std::chrono::seconds(cfg.queue.retry_max_seconds);
  q.max_lifetime = std::chrono::seconds(cfg.queue.max_lifetime_seconds);
  q.concurrency = static_cast<std::size_t>(cfg.queue.concurrency);
  q.per_destination = static_cast<std::size_t>(cfg.queue.per_destination_concurrency);
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& r = cfg.routes[i];
    queue::Route route;
    route.name = r.name;
    for (const auto& d : r.domains) route.domains.push_back(util::to_lower(d));
    route.transport = r.transport;
    route.next_hop = r.next_hop;
    if (r.transport == "relay" || r.transport == "lmtp") {
      auto hop = smtp::parse_next_hop(r.next_hop, r.transport == "lmtp" ? 24 : 25);
      if (!hop) return util::fail("route[" + std::to_string(i) + "].next_hop: " + hop.error().message);
    }
    q.routes.push_back(std::move(route));
  }
  return q;
}

void write_ready_file(const std::string& path, const nlohmann::json& j) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump() << '\n';
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int serve(const ServeOptions& options) {
  LoadResult loaded = load_config(options.config_path, options.overrides);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
    fatal("the configuration has errors; nothing was started");
    return 1;
  }
  Config cfg = loaded.config;
  // A full disk or a closed peer must surface as an error value, not kill the gateway.
  // (SIG_IGN of a valid signal cannot fail: std::signal returns SIG_ERR only for an invalid one.)
  (void)std::signal(SIGPIPE, SIG_IGN);
  (void)std::signal(SIGXFSZ, SIG_IGN);
  if (options.log_format) cfg.log.format = *options.log_format;
  log::init(*log::parse_level(cfg.log.level), *log::parse_format(cfg.log.format));

  if (auto err = check_data_dir(cfg.server.data_dir); !err.empty()) {
    fatal(err);
    return 1;
  }
  if (auto err = check_tls_files(cfg); !err.empty()) {
    fatal(err);
    return 1;
  }
  if (auto run_as = check_run_as(cfg); !run_as) {
    fatal(run_as.error().message);
    return 1;
  }
  raise_open_file_limit();

  const std::string hostname = cfg.server.hostname.empty() ? system_hostname() : cfg.server.hostname;
  auto smtp_cfg = server_settings(cfg, hostname);
  auto queue_cfg = smtp_cfg ? queue_settings(cfg, hostname) : util::Result<queue::QueueSettings>(util::fail(""));
  if (!smtp_cfg || !queue_cfg) {
    fatal(!smtp_cfg ? smtp_cfg.error().message : queue_cfg.error().message);
    return 1;
  }

  const auto started = Clock::now();
  asio::io_context io(static_cast<int>(cfg.server.threads));
  // SMTP and milter sessions run on loops of their own, one thread each (netio/io_pool.h);
  // `io` keeps the listeners, the queue, DNS and timers.
  netio::IoPool session_loops(static_cast<std::size_t>(cfg.server.threads));
  GatewayMetrics metrics(MAILMOAT_VERSION);

  auto unmeasured_resolver = make_resolver(io, cfg.dns);
  if (!unmeasured_resolver) {
    fatal(unmeasured_resolver.error().message);
    return 1;
  }
  std::unique_ptr<dns::Resolver> resolver = metrics.measure(**unmeasured_resolver);
  std::optional<auth::dmarc::PublicSuffixList> psl;
  if (cfg.auth.dmarc_mode == "rfc7489") {
    auto loaded_psl = auth::dmarc::PublicSuffixList::system();
    if (!loaded_psl) {
      fatal("auth.dmarc_mode = rfc7489: " + loaded_psl.error().message);
      return 1;
    }
    psl.emplace(std::move(*loaded_psl));
  }

  // Records: the store (SQLite in the data directory, or PostgreSQL) and the trace recorder.
  auto stores = store::open(cfg.store.url, cfg.server.data_dir);
  if (!stores) {
    fatal("store: " + stores.error().message);
    return 1;
  }
  store::RecorderOptions recorder_options;
  recorder_options.spill_path = (fs::path(cfg.server.data_dir) / "trace-spill.log").string();
  auto recorder = store::TraceRecorder::start(*(*stores)->trace, recorder_options);
  if (!recorder) {
    fatal("trace recorder: " + recorder.error().message);
    return 1;
  }
  std::vector<std::string> local_domains;
  local_domains.reserve(cfg.smtp.accepted_domains.size());
  for (const auto& d : cfg.smtp.accepted_domains) local_domains.push_back(util::to_lower(d));
  GatewayTrace trace(**recorder, local_domains);
  DmarcAggregateRecorder dmarc_aggregate(*(*stores)->dmarc);
  TlsRptRecorder tlsrpt_recorder(*(*stores)->tlsrpt);
  if (cfg.tlsrpt.enabled && cfg.tlsrpt.from.empty()) {
    fatal("tlsrpt.from is required when tlsrpt.enabled is true");
    return 1;
  }
  log::info("store.opened", {{"backend", (*stores)->backend}, {"location", (*stores)->location}});

  // Queue and transports.
  asio::thread_pool local_delivery(2);
  queue::QueueManager queue_manager(io, *queue_cfg);
  const std::string mailboxes = (fs::path(cfg.server.data_dir) / "mailboxes").string();
  queue_manager.add_transport("maildir", std::make_shared<queue::MaildirTransport>(local_delivery, mailboxes, hostname));
  queue_manager.add_transport("quarantine", std::make_shared<queue::QuarantineTransport>(
                                                local_delivery, *(*stores)->quarantine, quarantine_retention(cfg)));
  smtp::SmtpTransportOptions relay_opts;
  auto tls_policies = outbound_tls_policies(cfg);
  if (!tls_policies) {
    fatal(tls_policies.error().message);
    return 1;
  }
  relay_opts.tls_policies = *tls_policies;
  relay_opts.helo_name = hostname;
  relay_opts.use_bdat = cfg.queue.bdat;
  relay_opts.timeout = std::chrono::seconds(cfg.queue.delivery_timeout_seconds);
  relay_opts.on_tls_handshake = [&metrics](const tls::HandshakeOutcome& o) { metrics.on_tls_handshake("outbound", o); };
  queue_manager.add_transport("relay", std::make_shared<smtp::SmtpTransport>(io, relay_opts, resolver.get()));
  auto lmtp_opts = relay_opts;
  lmtp_opts.mode = smtp::SmtpTransportOptions::Mode::lmtp;
  queue_manager.add_transport("lmtp", std::make_shared<smtp::SmtpTransport>(io, lmtp_opts, resolver.get()));
  auto mx_opts = relay_opts;
  mx_opts.mode = smtp::SmtpTransportOptions::Mode::mx;
  if (cfg.tlsrpt.enabled) mx_opts.tls_report = [&tlsrpt_recorder](tls::TlsRptResult r) { tlsrpt_recorder.record(std::move(r)); };
  if (cfg.tls.mta_sts)
    mx_opts.mta_sts = std::make_shared<tls::MtaSts>(*resolver, cfg.tls.outbound_ca_file, [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    });
  queue_manager.add_transport("smtp", std::make_shared<smtp::SmtpTransport>(io, mx_opts, resolver.get()));
  auto recovered = queue_manager.open();
  if (!recovered) {
    fatal(recovered.error().message);
    return 1;
  }
  for (const auto& c : recovered->corrupt) log::error("queue.corrupt_file", {{"file", c}});
  log::info("queue.recovered", {{"messages", recovered->messages.size()},
                                {"discarded_incomplete", recovered->discarded_incomplete},
                                {"corrupt", recovered->corrupt.size()}});
  queue_manager.on_event([&trace, &metrics](const queue::QueueEvent& e) {
    metrics.on_queue_event(e);
    log::debug("queue.event", {{"id", e.queue_id}, {"type", e.type}, {"to", e.recipient}, {"detail", e.detail}});
    trace.on_queue_event(e);
  });

  std::unique_ptr<LinksRuntime> links_runtime;
  if (cfg.links.enabled) {
    auto made = make_links_runtime(cfg, *(*stores)->clicks);
    if (!made) {
      fatal(made.error().message);
      return 1;
    }
    links_runtime = std::move(*made);
  }

  auto attachments_made = make_attachments(cfg);
  if (!attachments_made) {
    fatal(attachments_made.error().message);
    return 1;
  }
  auto attachments_runtime = std::move(*attachments_made);
  if (attachments_runtime) attachments_runtime->connect_queue(queue_manager, hostname);
  // "Allow the sender" from the quarantine: kept in the shared store, re-read every 10 s.
  SharedSenderAllowList shared_sender_allow(*(*stores)->settings, std::chrono::seconds(10));
  auto chain = std::make_shared<pipeline::FilterChain>();
  std::shared_ptr<pipeline::Filter> signing_filter;
  std::shared_ptr<filters::SigningFilter> signer;  // the same filter, for SIGHUP key reloads
  std::string authserv_id = cfg.auth.authserv_id.empty() ? hostname : cfg.auth.authserv_id;
  std::unique_ptr<RulesReloader> rules_reloader;
  auto partners = partner_connectors(cfg);
  if (!partners) {
    fatal(partners.error().message);
    return 1;
  }
  // Partner connectors first: a transport check that needs no content (docs/tls.md).
  auto partner_filter = std::make_shared<filters::PartnerFilter>(*partners);
  chain->add(metrics.measure(partner_filter));
  {
    filters::AuthConfig ac;
    ac.authserv_id = cfg.auth.authserv_id.empty() ? hostname : cfg.auth.authserv_id;
    ac.spf = cfg.auth.spf;
    ac.dkim = cfg.auth.dkim;
    ac.dmarc = cfg.auth.dmarc;
    ac.arc = cfg.auth.arc;
    ac.iprev = cfg.auth.iprev;
    ac.dmarc_options.mode = psl ? auth::dmarc::Mode::rfc7489 : auth::dmarc::Mode::rfc9989;
    ac.dmarc_options.psl = psl ? &*psl : nullptr;
    auto action = [](const std::string& a) {
      return a == "quarantine" ? auth::dmarc::Action::quarantine
             : a == "deliver_as_spam" ? auth::dmarc::Action::deliver_as_spam
                                      : auth::dmarc::Action::reject;
    };
    ac.handling.on_reject = action(cfg.auth.dmarc_on_reject);
    ac.handling.on_quarantine = action(cfg.auth.dmarc_on_quarantine);
    ac.handling.tempfail_on_temperror = cfg.auth.dmarc_tempfail_on_temperror;
    ac.handling.spam_confidence_level = static_cast<int>(cfg.auth.dmarc_spam_level);
    for (const auto& d : cfg.auth.trusted_arc_sealers) ac.trusted_arc_sealers.push_back(util::to_lower(d));
    for (const auto& d : cfg.auth.dmarc_allow_domains) ac.dmarc_allow_domains.push_back(util::to_lower(d));
    for (const auto& n : cfg.auth.dmarc_allow_networks)
      if (auto net = util::parse_network(n)) ac.dmarc_allow_networks.push_back(*net);
    ac.max_dkim_signatures = static_cast<std::size_t>(cfg.auth.max_dkim_signatures);
    ac.budget = std::chrono::milliseconds(std::max<std::int64_t>(cfg.smtp.filter_budget_ms * 3 / 5, 1));
    auto clock = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // A filter's budget timer goes on the loop of the session that arms it (netio/io_pool.h),
    // so arming and expiry stay on that thread; `io` when armed from elsewhere.
    auto scheduler = [&io](std::chrono::milliseconds delay, std::move_only_function<void()> fn) {
      asio::io_context* loop = netio::IoPool::current();
      auto timer = std::make_shared<asio::steady_timer>(loop ? *loop : io, delay);
      timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) mutable {
        if (!ec) fn();
      });
    };
    ac.scl_header = cfg.verdict.scl_header;
    auto auth_filter = std::make_shared<filters::AuthFilter>(ac, *resolver, clock, scheduler);
    auth_filter->set_aggregate_sink(&dmarc_aggregate);
    chain->add(metrics.measure(auth_filter));
    auto connection = connection_config(cfg);
    if (!connection) {
      fatal(connection.error().message);
      return 1;
    }
    connection->shared_sender_allow = [&shared_sender_allow] { return shared_sender_allow.current(); };
    chain->add(metrics.measure(std::make_shared<filters::ConnectionFilter>(std::move(*connection), *resolver, scheduler)));
    // Transport rules; Safe Links and Safe Attachments after authentication and rules; then the SCL
    // verdict (thresholds and stamps) just before signing.
    auto rules_started = RulesReloader::start(io, cfg);
    if (!rules_started) {
      fatal(rules_started.error().message);
      return 1;
    }
    rules_reloader = std::move(*rules_started);
    rules_reloader->set_notify(queue_manager, hostname);
    chain->add(metrics.measure(rules_reloader->filter()));
    if (links_runtime) chain->add(metrics.measure(std::make_shared<filters::LinksFilter>(links_runtime->filter)));
    if (attachments_runtime) chain->add(metrics.measure(attachments_runtime->filter()));
    chain->add(metrics.measure(rules_reloader->attachments_filter()));  // rules on attachment facts
    chain->add(metrics.measure(std::make_shared<filters::VerdictFilter>(verdict_config(cfg))));
    // Rule disclaimers after every other body change, before signing (docs/rules.md).
    chain->add(metrics.measure(std::make_shared<filters::DisclaimerFilter>()));
    // Signing stays last: it applies the pending edits and signs the final bytes.
    auto signing = signing_config(cfg, ac.authserv_id);
    if (!signing) {
      fatal(signing.error().message);
      return 1;
    }
    if (!signing->signers.empty() || signing->sealer) {
      signer = std::make_shared<filters::SigningFilter>(std::move(*signing), clock);
      signing_filter = signer;
      chain->add(metrics.measure(signing_filter));
    }
  }
  smtp_cfg->on_tls_handshake = [&metrics](const tls::HandshakeOutcome& o) { metrics.on_tls_handshake("inbound", o); };
  if (attachments_runtime) attachments_runtime->set_tail(chain->after("attachments"));
  smtp_cfg->on_refused = [&trace, &metrics](const pipeline::MessageContext& ctx, const pipeline::Verdict& v,
                                            const smtp::Reply& r) {
    metrics.on_refused(ctx, v);
    trace.on_refused(ctx, v, r);
  };
  smtp::SmtpServer smtp_server(io, *smtp_cfg, queue_manager, chain, &session_loops);
  auto smtp_bound = smtp_server.listen();
  if (!smtp_bound) {
    fatal("smtp.listen: " + smtp_bound.error().message);
    return 1;
  }

  MilterFrontEnd milter_front(io, cfg, chain, queue_manager, trace, &session_loops);
  auto milter_bound = milter_front.listen();
  if (!milter_bound) {
    fatal("milter.listen: " + milter_bound.error().message);
    return 1;
  }

  http::Router router;
  router.add("GET", "/healthz", [&](const http::Request&) {
    metrics.on_http_request("/healthz");
    double up = std::chrono::duration<double>(Clock::now() - started).count();
    nlohmann::json j{{"status", "ok"}, {"version", MAILMOAT_VERSION}, {"uptime_seconds", up}};
    return http::Response::json(200, j.dump());
  });
  router.add("GET", "/metrics", [&](const http::Request&) {
    metrics.on_http_request("/metrics");
    http::Response r = http::Response::text(
        200, metrics.scrape(queue_manager, **recorder, std::chrono::duration<double>(Clock::now() - started).count()));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });

  auto admin_token = load_or_create_admin_token(cfg.server.data_dir);
  if (!admin_token) {
    fatal(admin_token.error().message);
    return 1;
  }
  ApiAuth api_auth(*admin_token, *(*stores)->settings, *(*stores)->audit);
  add_token_routes(router, api_auth);
  store::SystemClock account_clock;
  Accounts accounts(*(*stores)->settings, account_clock, cfg.http.session_minutes);
  api_auth.use_accounts(accounts);
  add_session_routes(router, accounts, api_auth);
  add_user_routes(router, accounts, api_auth);
  add_console_routes(router, cfg.http.console_dir);
  add_console_read_routes(router, *(*stores)->trace, api_auth);
  add_policy_read_routes(router, cfg, api_auth);
  add_queue_routes(router, queue_manager, api_auth);
  add_trace_routes(router, *(*stores)->trace, api_auth);
  QuarantineService quarantine(*(*stores)->quarantine, *(*stores)->audit, queue_manager, hostname,
                               [&trace](const queue::QueueEvent& e) { trace.on_queue_event(e); });
  QuarantineActions quarantine_actions(quarantine, *(*stores)->trace, *(*stores)->settings, *(*stores)->audit,
                                       [&shared_sender_allow] { shared_sender_allow.refresh(); });
  add_quarantine_routes(router, quarantine, api_auth, &quarantine_actions);
  add_rules_routes(router, *rules_reloader, cfg, api_auth);
  auto digest_made = make_quarantine_digest(cfg, hostname, **stores, quarantine, queue_manager);
  if (!digest_made) {
    fatal(digest_made.error().message);
    return 1;
  }
  std::unique_ptr<QuarantineDigest> quarantine_digest = std::move(*digest_made);
  std::unique_ptr<DigestSchedule> digest_schedule;
  add_digest_routes(router, quarantine_digest.get(), api_auth);
  if (quarantine_digest) {
    digest_schedule = std::make_unique<DigestSchedule>(io, *quarantine_digest, static_cast<int>(cfg.quarantine_digest.hour));
  }
  add_audit_routes(router, *(*stores)->audit, api_auth);
  add_stats_routes(router, *(*stores)->trace, api_auth);
  Housekeeping housekeeping(io, **stores, cfg);
  DmarcReportSettings report_settings;
  report_settings.org_name = cfg.dmarc_reports.org_name.empty() ? hostname : cfg.dmarc_reports.org_name;
  report_settings.from = cfg.dmarc_reports.from;
  report_settings.contact = cfg.dmarc_reports.contact;
  report_settings.discovery = psl ? "psl" : "treewalk";
  report_settings.psl = psl ? &*psl : nullptr;
  DmarcReporter dmarc_reporter(report_settings, *(*stores)->dmarc, *(*stores)->settings, *resolver, queue_manager,
                               signing_filter);
  DmarcReportSchedule dmarc_reports(io, dmarc_reporter);
  add_dmarc_report_routes(router, dmarc_reports, api_auth);
  TlsRptReporter tlsrpt_reporter({cfg.tlsrpt.org_name.empty() ? hostname : cfg.tlsrpt.org_name, cfg.tlsrpt.from,
                                  cfg.tlsrpt.contact, cfg.tls.outbound_ca_file},
                                 *(*stores)->tlsrpt, *(*stores)->settings, *resolver, queue_manager, signing_filter);
  DmarcReportSchedule tlsrpt_reports(io, tlsrpt_reporter);
  add_report_routes(router, tlsrpt_reports, api_auth, "tlsrpt");
  add_click_trace_routes(router, *(*stores)->clicks, api_auth);
  if (links_runtime) http::add_click_routes(router, links_runtime->clicks);
  if (attachments_runtime) attachments_runtime->add_routes(router);

  http::Server http_server(router, static_cast<std::size_t>(cfg.server.threads));
  if (!cfg.http.tls_cert.empty()) {
    if (auto ok = http_server.use_tls(cfg.http.tls_cert, cfg.http.tls_key); !ok) {
      fatal(ok.error().message);
      return 1;
    }
  }
  auto http_bound = http_server.listen(cfg.http.listen);
  if (!http_bound) {
    fatal("http.listen: " + http_bound.error().message);
    return 1;
  }
  // Every port is bound: from here on serve runs as server.user (when started as root).
  if (auto dropped = drop_privileges(cfg); !dropped) {
    fatal("server.user: " + dropped.error().message);
    return 1;
  }
  http_server.start();
  smtp_server.start();
  milter_front.start();
  queue_manager.start();
  housekeeping.start();
  if (digest_schedule) digest_schedule->start();
  if (cfg.dmarc_reports.enabled) dmarc_reports.start();
  if (cfg.tlsrpt.enabled) tlsrpt_reports.start();

  fs::path data_dir = fs::absolute(cfg.server.data_dir).lexically_normal();
  log::info("serve.started", {{"version", MAILMOAT_VERSION},
                              {"http", *http_bound},
                              {"data_dir", data_dir.string()},
                              {"threads", cfg.server.threads},
                              {"pid", static_cast<long>(::getpid())}});
  nlohmann::json smtp_json = nlohmann::json::object();
  for (const auto& [name, addr] : *smtp_bound) {
    smtp_json[name] = addr;
    log::info("serve.smtp_listening", {{"listener", name}, {"address", addr}});
  }

  nlohmann::json milter_json = nlohmann::json::object();
  for (const auto& [name, addr] : *milter_bound) {
    milter_json[name] = addr;
    log::info("serve.milter_listening", {{"listener", name}, {"address", addr}});
  }

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  asio::steady_timer shutdown_timer(io);
  bool stopping = false;
  Clock::time_point deadline;
  bool aborted = false;
  std::function<void()> poll_stop = [&] {
    bool idle = http_server.active_connections() == 0 && smtp_server.active_sessions() == 0 &&
                milter_front.active_sessions() == 0 && queue_manager.in_flight() == 0;
    if (idle) {
      io.stop();
      return;
    }
    if (Clock::now() >= deadline) {
      if (aborted) {
        io.stop();
        return;
      }
      // Grace is over: close what is left (unacknowledged messages are the client's to retry).
      log::warn("serve.grace_expired", {{"smtp_sessions", smtp_server.active_sessions()},
                                        {"deliveries", queue_manager.in_flight()}});
      smtp_server.abort_sessions();
      milter_front.abort_sessions();
      aborted = true;
      deadline = Clock::now() + std::chrono::seconds(1);
    }
    shutdown_timer.expires_after(std::chrono::milliseconds(50));
    shutdown_timer.async_wait([&](const boost::system::error_code&) { poll_stop(); });
  };
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        LoadResult again = load_config(options.config_path, options.overrides);
        if (!again.ok()) {
          for (const auto& e : again.errors) log::error("config.reload_failed", {{"error", e.to_string()}});
        } else {
          auto reloaded = server_settings(again.config, hostname);
          auto reloaded_partners = partner_connectors(again.config);
          auto reloaded_signing = signing_config(again.config, authserv_id);
          util::Result<void> applied;
          if (!reloaded)
            applied = util::fail(reloaded.error().message);
          else if (!reloaded_partners)
            applied = util::fail(reloaded_partners.error().message);
          else if (!reloaded_signing)
            applied = util::fail(reloaded_signing.error().message);
          else
            applied = smtp_server.reload(std::move(*reloaded));
          if (!applied) {
            log::error("config.reload_failed", {{"error", applied.error().message}});
          } else {
            partner_filter->reload(std::move(*reloaded_partners));
            rules_reloader->reload("SIGHUP");
            if (signer)
              signer->reload(std::move(*reloaded_signing));
            else if (!reloaded_signing->signers.empty() || reloaded_signing->sealer)
              log::warn("config.reload_partial", {{"reason", "DKIM keys or ARC sealing configured after start take "
                                                             "effect at the next start"}});
            log::set_level(*log::parse_level(again.config.log.level));
            log::info("config.reloaded",
                      {{"file", options.config_path.empty() ? "(defaults)" : options.config_path},
                       {"applied", "log level, SMTP domains, networks, recipient list, limits, TLS certificates, "
                                   "partner connectors, rules file, DKIM keys and ARC sealer"}});
          }
        }
        wait_signal();
        return;
      }
      if (stopping) return;
      stopping = true;
      log::info("serve.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                   {"grace_seconds", cfg.server.shutdown_grace_seconds}});
      http_server.stop();
      smtp_server.stop();
      milter_front.stop();
      queue_manager.stop();
      signals.cancel();
      deadline = Clock::now() + std::chrono::seconds(cfg.server.shutdown_grace_seconds);
      poll_stop();
    });
  };
  wait_signal();
  // Only now that SIGTERM is handled may a supervisor (or a test) be told we are ready.
  if (!options.ready_file.empty())
    write_ready_file(options.ready_file, {{"http", *http_bound},
                                          {"smtp", smtp_json},
                                          {"milter", milter_json},
                                          {"data_dir", data_dir.string()},
                                          {"pid", ::getpid()}});

  std::vector<std::thread> threads;
  session_loops.start();
  for (std::int64_t i = 1; i < cfg.server.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  session_loops.stop();
  session_loops.join();
  local_delivery.join();
  (*recorder)->wait_idle(std::chrono::seconds(5));
  log::info("serve.stopped", {});
  return 0;
}

}  // namespace mailmoat::app

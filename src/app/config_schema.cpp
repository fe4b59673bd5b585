#include "app/config_schema.h"

#include <arpa/inet.h>

#include "util/strings.h"

namespace mailmoat::app {

Schema bind_schema(Config& c) {
  Schema s;
  s.sections.push_back(Section{"server", {
      {.key = "hostname", .target = &c.server.hostname,
       .doc = "name in the SMTP banner and Received fields; empty: the system host name"},
      {.key = "node_id", .target = &c.server.node_id,
       .doc = "unique id of this node inside queue ids; empty: derived from the host name"},
      {.key = "data_dir", .target = &c.server.data_dir,
       .doc = "spool, SQLite store and Maildir delivery live under this directory"},
      {.key = "threads", .target = &c.server.threads,
       .doc = "event-loop threads: this many one-thread loops for SMTP and milter sessions, as many for HTTP, "
              "and this many threads on the shared loop (queue, DNS, delivery)",
       .min = 1, .max = 64},
      {.key = "shutdown_grace_seconds", .target = &c.server.shutdown_grace_seconds,
       .doc = "on SIGTERM, how long in-flight sessions may finish before they are cut", .min = 0, .max = 3600},
      {.key = "user", .target = &c.server.user,
       .doc = "started as root: bind the ports, give data_dir to this user and run as it; empty: root is refused "
              "unless every listener is on loopback"},
  }});
  s.sections.push_back(Section{"log", {
      {.key = "level", .target = &c.log.level, .doc = "trace, debug, info, warn, error or off",
       .check = Check::one_of, .choices = {"trace", "debug", "info", "warn", "error", "critical", "off"}},
      {.key = "format", .target = &c.log.format, .doc = "text (key=value) or json (one object per line)",
       .check = Check::one_of, .choices = {"text", "json"}},
  }});
  s.sections.push_back(Section{"http", {
      {.key = "listen", .target = &c.http.listen,
       .doc = "address:port of the HTTP listener (health, metrics, click service, admin API)",
       .check = Check::host_port},
      {.key = "tls_cert", .target = &c.http.tls_cert,
       .doc = "PEM certificate chain: the listener speaks HTTPS (required when listen is not a loopback address)"},
      {.key = "tls_key", .target = &c.http.tls_key, .doc = "PEM private key of tls_cert"},
      {.key = "session_minutes", .target = &c.http.session_minutes,
       .doc = "admin console sessions end after this many idle minutes, and this long after sign-in in any case",
       .min = 1, .max = 1440},
      {.key = "console_dir", .target = &c.http.console_dir,
       .doc = "directory of the built admin console served under /console/; empty: the one this binary was built with"},
  }});
  s.sections.push_back(Section{"store", {
      {.key = "url", .target = &c.store.url,
       .doc = "empty: SQLite in the data directory; or postgresql://user:password@host/db",
       .secret = true},
      {.key = "trace_retention_days", .target = &c.store.trace_retention_days,
       .doc = "message trace records older than this are purged (hourly)", .min = 1, .max = 3650},
      {.key = "click_retention_days", .target = &c.store.click_retention_days,
       .doc = "click (URL) trace records older than this are purged (hourly)", .min = 1, .max = 3650},
  }});
  s.sections.push_back(Section{"dmarc_reports", {
      {.key = "enabled", .target = &c.dmarc_reports.enabled,
       .doc = "send daily DMARC aggregate reports (RFC 9990) to the rua of domains seen the day before"},
      {.key = "from", .target = &c.dmarc_reports.from,
       .doc = "the reporting address (From and envelope sender); required when enabled"},
      {.key = "org_name", .target = &c.dmarc_reports.org_name, .doc = "reporting organization; empty: the host name"},
      {.key = "contact", .target = &c.dmarc_reports.contact, .doc = "extra contact information in each report"},
  }});
  s.sections.push_back(Section{"tlsrpt", {
      {.key = "enabled", .target = &c.tlsrpt.enabled,
       .doc = "record outbound TLS session results and send daily TLS-RPT reports (RFC 8460) to recipient domains' rua"},
      {.key = "from", .target = &c.tlsrpt.from,
       .doc = "the reporting address (From and envelope sender of mailed reports); required when enabled"},
      {.key = "org_name", .target = &c.tlsrpt.org_name, .doc = "organization-name in reports; empty: the host name"},
      {.key = "contact", .target = &c.tlsrpt.contact, .doc = "contact-info in reports; empty: from"},
  }});
  s.sections.push_back(Section{"quarantine", {
      {.key = "retention_days", .target = &c.quarantine.retention_days,
       .doc = "quarantined messages are deleted this long after they arrive", .min = 1, .max = 3650},
      {.key = "retention_days_by_reason", .target = &c.quarantine.retention_days_by_reason,
       .doc = "per-reason retention as \"reason=days\" (reasons: spam, phish, malware, spoof, rule, ...)",
       .check = Check::name_days},
  }});
  s.sections.push_back(Section{"quarantine_digest", {
      {.key = "enabled", .target = &c.quarantine_digest.enabled,
       .doc = "send each recipient a daily digest of their newly quarantined mail, with signed release links"},
      {.key = "hour", .target = &c.quarantine_digest.hour, .doc = "UTC hour of the daily digest", .min = 0, .max = 23},
      {.key = "from", .target = &c.quarantine_digest.from, .doc = "From address of digests; required when enabled"},
      {.key = "public_url", .target = &c.quarantine_digest.public_url,
       .doc = "scheme://host[:port] of the release links; empty: links.public_url, else http://<http.listen>"},
      {.key = "self_release", .target = &c.quarantine_digest.self_release,
       .doc = "quarantine reasons a recipient may release from a digest link; other reasons make a release request "
              "for admins (malware never self-releases)"},
      {.key = "link_valid_days", .target = &c.quarantine_digest.link_valid_days,
       .doc = "days a digest link stays valid", .min = 1, .max = 90},
  }});
  s.sections.push_back(Section{"smtp", {
      {.key = "accepted_domains", .target = &c.smtp.accepted_domains,
       .doc = "domains this gateway accepts mail for on inbound listeners", .check = Check::domain},
      {.key = "relay_networks", .target = &c.smtp.relay_networks,
       .doc = "client networks (CIDR) allowed to relay through relay and submission listeners",
       .check = Check::cidr},
      {.key = "recipient_list", .target = &c.smtp.recipient_list,
       .doc = "file of valid inbound recipients (address or @domain per line); empty: any in accepted_domains"},
      {.key = "max_message_size", .target = &c.smtp.max_message_size,
       .doc = "largest message accepted, in bytes (advertised as SIZE)", .min = 1024, .max = 2147483647},
      {.key = "max_recipients", .target = &c.smtp.max_recipients, .doc = "recipients per message (more get 452 4.5.3)",
       .min = 1, .max = 100000},
      {.key = "max_command_line", .target = &c.smtp.max_command_line,
       .doc = "longest command line in octets, CRLF included (RFC 5321: at least 512)", .min = 512, .max = 65536},
      {.key = "max_line_length", .target = &c.smtp.max_line_length,
       .doc = "longest message line in octets without CRLF (RFC 5322: 998)", .min = 78, .max = 1000000},
      {.key = "long_lines", .target = &c.smtp.long_lines,
       .doc = "a longer line: reject the message (554 5.6.0) or wrap it (header lines folded)",
       .check = Check::one_of, .choices = {"reject", "wrap"}},
      {.key = "max_header_size", .target = &c.smtp.max_header_size, .doc = "largest header section in bytes",
       .min = 1024, .max = std::int64_t{64} * 1024 * 1024},
      {.key = "max_errors", .target = &c.smtp.max_errors, .doc = "errors in a session before it is disconnected",
       .min = 1, .max = 1000},
      {.key = "timeout_seconds", .target = &c.smtp.timeout_seconds,
       .doc = "time allowed to receive one command or message line, or to wait for the next (RFC 5321 "
               "4.5.3.2: 300); bytes trickled in do not extend it", .min = 1, .max = 3600},
      {.key = "busy_timeout_seconds", .target = &c.smtp.busy_timeout_seconds,
       .doc = "the same, when more than 80% of max_connections are in use", .min = 1, .max = 3600},
      {.key = "max_connections", .target = &c.smtp.max_connections, .doc = "SMTP connections at once, all listeners",
       .min = 1, .max = 1000000},
      {.key = "max_connections_per_ip", .target = &c.smtp.max_connections_per_ip,
       .doc = "SMTP connections at once from one client address", .min = 1, .max = 1000000},
      {.key = "max_connection_rate_per_ip", .target = &c.smtp.max_connection_rate_per_ip,
       .doc = "new connections per minute from one client address", .min = 1, .max = 10000000},
      {.key = "max_hops", .target = &c.smtp.max_hops,
       .doc = "more Received fields than this is a mail loop (554 5.4.6)", .min = 1, .max = 1000},
      {.key = "filter_budget_ms", .target = &c.smtp.filter_budget_ms,
       .doc = "time the filter chain may take at end of data before the message is tempfailed", .min = 10,
       .max = 600000},
  }});
  s.sections.push_back(Section{"milter", {
      {.key = "timeout_seconds", .target = &c.milter.timeout_seconds,
       .doc = "idle time between an MTA's milter packets before the connection is closed", .min = 1, .max = 86400},
      {.key = "progress_seconds", .target = &c.milter.progress_seconds,
       .doc = "while the chain runs longer than this, tell the MTA it is still working (SMFIR_PROGRESS)", .min = 1,
       .max = 3600},
  }});
  s.sections.push_back(Section{"dns", {
      {.key = "forwarders", .target = &c.dns.forwarders,
       .doc = "resolvers to forward to, as \"address@port\"; empty: full recursion from the root"},
      {.key = "trust_anchor_file", .target = &c.dns.trust_anchor_file,
       .doc = "DNSSEC trust anchors (DS or DNSKEY lines); empty: no validation"},
      {.key = "timeout_ms", .target = &c.dns.timeout_ms, .doc = "budget for one DNS query", .min = 50,
       .max = 60000},
      {.key = "cache_entries", .target = &c.dns.cache_entries,
       .doc = "answers kept in the gateway's own cache within their TTL (at most 1 h, negative 15 min); 0: off",
       .min = 0, .max = 10000000},
      {.key = "zone_files", .target = &c.dns.zone_files,
       .doc = "offline mode: answer every query from these RFC 1035 zone files only"},
  }});
  s.sections.push_back(Section{"auth", {
      {.key = "authserv_id", .target = &c.auth.authserv_id,
       .doc = "authserv-id of our Authentication-Results; empty: the host name"},
      {.key = "spf", .target = &c.auth.spf, .doc = "check SPF (RFC 7208) on inbound mail"},
      {.key = "dkim", .target = &c.auth.dkim, .doc = "verify DKIM signatures (RFC 6376)"},
      {.key = "dmarc", .target = &c.auth.dmarc, .doc = "evaluate DMARC and apply the handling policy"},
      {.key = "arc", .target = &c.auth.arc, .doc = "validate ARC chains (RFC 8617)"},
      {.key = "iprev", .target = &c.auth.iprev, .doc = "check the client's forward-confirmed reverse DNS"},
      {.key = "dmarc_mode", .target = &c.auth.dmarc_mode,
       .doc = "rfc9989 (DNS tree walk) or rfc7489 (Public Suffix List)", .check = Check::one_of,
       .choices = {"rfc9989", "rfc7489"}},
      {.key = "dmarc_on_reject", .target = &c.auth.dmarc_on_reject,
       .doc = "what p=reject failures get: reject (550 5.7.1), quarantine or deliver_as_spam",
       .check = Check::one_of, .choices = {"reject", "quarantine", "deliver_as_spam"}},
      {.key = "dmarc_on_quarantine", .target = &c.auth.dmarc_on_quarantine,
       .doc = "what p=quarantine failures get: quarantine or deliver_as_spam", .check = Check::one_of,
       .choices = {"quarantine", "deliver_as_spam"}},
      {.key = "dmarc_tempfail_on_temperror", .target = &c.auth.dmarc_tempfail_on_temperror,
       .doc = "answer 451 when DNS failures keep DMARC from deciding"},
      {.key = "dmarc_spam_level", .target = &c.auth.dmarc_spam_level,
       .doc = "spam confidence level written for deliver_as_spam", .min = 0, .max = 9},
      {.key = "trusted_arc_sealers", .target = &c.auth.trusted_arc_sealers,
       .doc = "sealing domains whose passing ARC chain overrides a DMARC failure", .check = Check::domain},
      {.key = "dmarc_allow_domains", .target = &c.auth.dmarc_allow_domains,
       .doc = "From domains (and subdomains) whose DMARC failures are overridden (reason local_policy)",
       .check = Check::domain},
      {.key = "dmarc_allow_networks", .target = &c.auth.dmarc_allow_networks,
       .doc = "client networks whose DMARC failures are overridden (your own forwarders)", .check = Check::cidr},
      {.key = "max_dkim_signatures", .target = &c.auth.max_dkim_signatures,
       .doc = "DKIM signatures verified per message; more are reported as policy", .min = 1, .max = 100},
  }});
  s.sections.push_back(Section{"dkim", {
      {.key = "sign", .target = &c.dkim.sign,
       .doc = "DKIM-sign mail from relay and submission listeners for domains with a [[dkim.key]]"},
      {.key = "headers", .target = &c.dkim.headers, .doc = "header fields signed (each occurrence)"},
      {.key = "oversign", .target = &c.dkim.oversign,
       .doc = "fields signed once more than they occur, so they cannot be added after signing"},
      {.key = "canonicalization", .target = &c.dkim.canonicalization, .doc = "header/body canonicalization",
       .check = Check::one_of,
       .choices = {"relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple", "relaxed", "simple"}},
  }});
  s.sections.push_back(Section{"arc", {
      {.key = "seal", .target = &c.arc.seal,
       .doc = "add an ARC set to inbound mail mailmoat modified, when key_file is set"},
      {.key = "domain", .target = &c.arc.domain, .doc = "sealing domain (d=)"},
      {.key = "selector", .target = &c.arc.selector, .doc = "selector (s=)"},
      {.key = "key_file", .target = &c.arc.key_file, .doc = "PEM private key; empty: no sealing"},
  }});
  s.sections.push_back(Section{"connection", {
      {.key = "ip_allow", .target = &c.connection.ip_allow,
       .doc = "inbound clients (CIDR) that bypass spam filtering (SCL -1)", .check = Check::cidr},
      {.key = "ip_block", .target = &c.connection.ip_block,
       .doc = "clients (CIDR) refused at connect with 554 5.7.1", .check = Check::cidr},
      {.key = "sender_allow", .target = &c.connection.sender_allow,
       .doc = "envelope senders (address or domain) given SCL -1 when SPF or DMARC passes"},
      {.key = "sender_block", .target = &c.connection.sender_block,
       .doc = "envelope senders (address or domain) refused with 550 5.7.1"},
      {.key = "dnsbl_zones", .target = &c.connection.dnsbl_zones,
       .doc = "DNS block lists (RFC 5782) asked about inbound clients", .check = Check::domain},
      {.key = "dnsbl_codes", .target = &c.connection.dnsbl_codes,
       .doc = "return codes that count, as \"127.0.0.2=meaning\"; empty: any 127.0.0.0/8 answer"},
      {.key = "dnsbl_scl", .target = &c.connection.dnsbl_scl, .doc = "SCL given to a client on a DNS block list",
       .min = 0, .max = 9},
      {.key = "dnsbl_timeout_ms", .target = &c.connection.dnsbl_timeout_ms,
       .doc = "time all DNS block list lookups may take; a zone without an answer by then is traced and ignored",
       .min = 10, .max = 60000},
  }});
  s.sections.push_back(Section{"rules", {
      {.key = "file", .target = &c.rules.file,
       .doc = "transport rules file (docs/rules.md), reloaded on change and SIGHUP; empty: no rules"},
      {.key = "body_scan_kb", .target = &c.rules.body_scan_kb,
       .doc = "decoded text of the body that subject/body conditions scan, in KiB", .min = 1, .max = 10240},
  }});
  s.sections.push_back(Section{"verdict", {
      {.key = "scl_header", .target = &c.verdict.scl_header, .doc = "header carrying the spam confidence level"},
      {.key = "verdict_header", .target = &c.verdict.verdict_header,
       .doc = "header carrying the action and reason codes"},
      {.key = "mark_at", .target = &c.verdict.mark_at, .doc = "SCL from which inbound mail is delivered marked",
       .min = 0, .max = 10},
      {.key = "quarantine_at", .target = &c.verdict.quarantine_at, .doc = "SCL from which inbound mail is quarantined",
       .min = 0, .max = 10},
      {.key = "reject_at", .target = &c.verdict.reject_at, .doc = "SCL from which inbound mail is rejected; 10: never",
       .min = 0, .max = 10},
      {.key = "mark_subject_prefix", .target = &c.verdict.mark_subject_prefix,
       .doc = "prepended to the Subject of mail delivered marked; empty: Subject unchanged"},
  }});
  s.sections.push_back(Section{"queue", {
      {.key = "retry_base_seconds", .target = &c.queue.retry_base_seconds,
       .doc = "first retry delay; doubles per attempt, with jitter", .min = 1, .max = 86400},
      {.key = "retry_max_seconds", .target = &c.queue.retry_max_seconds, .doc = "longest delay between retries",
       .min = 1, .max = 604800},
      {.key = "max_lifetime_seconds", .target = &c.queue.max_lifetime_seconds,
       .doc = "a message still undelivered after this is bounced (5 days)", .min = 1, .max = 31536000},
      {.key = "concurrency", .target = &c.queue.concurrency, .doc = "deliveries in progress at once", .min = 1,
       .max = 10000},
      {.key = "per_destination_concurrency", .target = &c.queue.per_destination_concurrency,
       .doc = "deliveries at once to one destination (next hop)", .min = 1, .max = 10000},
      {.key = "delivery_timeout_seconds", .target = &c.queue.delivery_timeout_seconds,
       .doc = "next-hop reply timeout for commands; the RFC 5321 4.5.3.2 stages scale with it (DATA 120/300, end of data 600/300)", .min = 1, .max = 3600},
      {.key = "bdat", .target = &c.queue.bdat, .doc = "send with BDAT when the next hop offers CHUNKING"},
  }});
  s.sections.push_back(Section{"attachments", {
      {.key = "enabled", .target = &c.attachments.enabled, .doc = "run the Safe Attachments filter"},
      {.key = "block_sha256", .target = &c.attachments.block_sha256, .doc = "SHA-256 (hex) of files always malicious"},
      {.key = "allow_sha256", .target = &c.attachments.allow_sha256, .doc = "SHA-256 (hex) of files always clean"},
      {.key = "banned_types", .target = &c.attachments.banned_types, .doc = "true types (libmagic) always malicious"},
      {.key = "banned_extensions", .target = &c.attachments.banned_extensions,
       .doc = "file extensions (no dot, lower case) always malicious"},
      {.key = "block_at", .target = &c.attachments.block_at, .doc = "lowest verdict a policy acts on",
       .check = Check::one_of, .choices = {"suspicious", "malicious"}},
      {.key = "workers", .target = &c.attachments.workers, .doc = "sandboxed analyze-worker processes", .min = 1, .max = 64},
      {.key = "worker_max_jobs", .target = &c.attachments.worker_max_jobs, .doc = "jobs before a worker is replaced",
       .min = 1, .max = 1000000},
      {.key = "worker_timeout_ms", .target = &c.attachments.worker_timeout_ms,
       .doc = "wall-clock limit per file; past it the worker is killed (scan error)", .min = 10, .max = 600000},
      {.key = "worker_memory_mb", .target = &c.attachments.worker_memory_mb, .doc = "address-space limit per worker",
       .min = 64, .max = 65536},
      {.key = "worker_cpu_seconds", .target = &c.attachments.worker_cpu_seconds,
       .doc = "CPU time limit over a worker's life", .min = 1, .max = 86400},
      {.key = "max_archive_depth", .target = &c.attachments.max_archive_depth, .doc = "archive nesting limit",
       .min = 1, .max = 64},
      {.key = "max_archive_files", .target = &c.attachments.max_archive_files, .doc = "files per attachment limit",
       .min = 1, .max = 1000000},
      {.key = "max_archive_bytes", .target = &c.attachments.max_archive_bytes, .doc = "total expanded bytes limit",
       .min = 1024, .max = 1ll << 40},
      {.key = "max_archive_ratio", .target = &c.attachments.max_archive_ratio,
       .doc = "expanded : compressed limit (applies past 1 MiB)", .min = 1, .max = 100000},
      {.key = "cache_entries", .target = &c.attachments.cache_entries, .doc = "verdicts remembered by SHA-256",
       .min = 0, .max = 10000000},
      {.key = "clamd", .target = &c.attachments.clamd, .doc = "clamd socket: unix:/path or host:port; empty: no ClamAV"},
      {.key = "yara_rules_dir", .target = &c.attachments.yara_rules_dir,
       .doc = "directory of YARA rules (*.yar, *.yara) compiled at start; empty: no YARA"},
      {.key = "fast_path_ms", .target = &c.attachments.fast_path_ms,
       .doc = "block: analysis finished within this at end of data needs no hold", .min = 0, .max = 600000},
      {.key = "dynamic_retention_days", .target = &c.attachments.dynamic_retention_days,
       .doc = "days Dynamic Delivery keeps outcomes and clean originals for its links", .min = 1, .max = 3650},
      {.key = "cape", .target = &c.attachments.cape,
       .doc = "CAPE v2 API host:port for files static analysis finds suspicious; empty: off"},
      {.key = "cape_token", .target = &c.attachments.cape_token, .doc = "CAPE API token", .secret = true},
      {.key = "cape_budget_ms", .target = &c.attachments.cape_budget_ms, .doc = "time CAPE gets per file",
       .min = 1000, .max = 3600000},
      {.key = "cape_poll_ms", .target = &c.attachments.cape_poll_ms, .doc = "interval between task status polls",
       .min = 10, .max = 600000},
      {.key = "cape_malicious_score", .target = &c.attachments.cape_malicious_score,
       .doc = "CAPE malscore at or above which a file is malicious", .min = 0, .max = 10},
      {.key = "cape_suspicious_score", .target = &c.attachments.cape_suspicious_score,
       .doc = "CAPE malscore at or above which a file is suspicious", .min = 0, .max = 10},
  }});
  s.arrays.push_back(TableArray{
      "smtp.listener", "one table per SMTP listener",
      [&c] { return c.smtp.listeners.size(); },
      [&c](std::size_t n) { c.smtp.listeners.resize(n); },
      [&c](std::size_t i) {
        ListenerConfig& l = c.smtp.listeners[i];
        return std::vector<Field>{
            {.key = "name", .target = &l.name, .doc = "name used in logs and the trace"},
            {.key = "address", .target = &l.address, .doc = "address:port to listen on",
             .check = Check::host_port},
            {.key = "role", .target = &l.role, .doc = "inbound (MX), relay (outbound) or submission",
             .check = Check::one_of, .choices = {"inbound", "relay", "submission"}},
            {.key = "tls_cert", .target = &l.tls_cert, .doc = "PEM certificate chain for STARTTLS; empty: no TLS"},
            {.key = "tls_key", .target = &l.tls_key, .doc = "PEM private key for tls_cert"},
            {.key = "ocsp_file", .target = &l.ocsp_file,
             .doc = "DER OCSP response for tls_cert, stapled when the client asks; re-read on SIGHUP; empty: none"},
            {.key = "line_endings", .target = &l.line_endings,
             .doc = "strict (bare CR/LF refused: no SMTP smuggling) or normalize (bare LF accepted; trusted relays)",
             .check = Check::one_of, .choices = {"strict", "normalize"}},
        };
      }});
  s.arrays.push_back(TableArray{
      "milter.listener", "one table per milter listener (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER)",
      [&c] { return c.milter.listeners.size(); },
      [&c](std::size_t n) { c.milter.listeners.resize(n); },
      [&c](std::size_t i) {
        MilterListenerConfig& l = c.milter.listeners[i];
        return std::vector<Field>{
            {.key = "name", .target = &l.name, .doc = "name used in logs and the trace"},
            {.key = "address", .target = &l.address, .doc = "address:port, or unix:/path, to listen on",
             .check = Check::host_port_or_unix},
            {.key = "budget_ms", .target = &l.budget_ms,
             .doc = "time the filter chain may take at end of message (keep it under Postfix's milter_content_timeout)",
             .min = 10, .max = 3600000},
            {.key = "on_budget_exceeded", .target = &l.on_budget_exceeded,
             .doc = "tempfail (4.7.0), accept (unchanged, recorded in the trace) or quarantine (MTA hold queue)",
             .check = Check::one_of, .choices = {"tempfail", "accept", "quarantine"}},
        };
      }});
  s.arrays.push_back(TableArray{
      "route", "recipient domains to transports; first match wins, \"*\" matches every domain",
      [&c] { return c.routes.size(); },
      [&c](std::size_t n) { c.routes.resize(n); },
      [&c](std::size_t i) {
        RouteConfig& r = c.routes[i];
        return std::vector<Field>{
            {.key = "name", .target = &r.name,
             .doc = "name a transport rule's route action uses to send every recipient through this route"},
            {.key = "domains", .target = &r.domains, .doc = "recipient domains, or \"*\" (may be empty for a named route)"},
            {.key = "transport", .target = &r.transport, .doc = "maildir, relay, lmtp or smtp (MX lookup)",
             .check = Check::one_of, .choices = {"maildir", "relay", "lmtp", "smtp"}},
            {.key = "next_hop", .target = &r.next_hop,
             .doc = "relay: [host]:port; lmtp: host:port or unix:/path; maildir: directory (empty: data_dir/mailboxes)"},
        };
      }});
  s.arrays.push_back(TableArray{
      "dkim.key", "one table per DKIM signing key",
      [&c] { return c.dkim.keys.size(); },
      [&c](std::size_t n) { c.dkim.keys.resize(n); },
      [&c](std::size_t i) {
        DkimKeyConfig& k = c.dkim.keys[i];
        return std::vector<Field>{
            {.key = "domain", .target = &k.domain, .doc = "signing domain (d=)", .check = Check::domain},
            {.key = "selector", .target = &k.selector, .doc = "selector (s=)"},
            {.key = "key_file", .target = &k.key_file, .doc = "PEM private key (RSA or Ed25519)"},
            {.key = "next", .target = &k.next, .doc = "the rotation's next key: published, not used to sign"},
        };
      }});
  add_tls_schema(s, c);
  bind_links_schema(c, s);
  s.arrays.push_back(TableArray{
      "attachments.policy", "Safe Attachments policies; the matching one with the lowest priority applies",
      [&c] { return c.attachments.policies.size(); },
      [&c](std::size_t n) { c.attachments.policies.resize(n); },
      [&c](std::size_t i) {
        AttachmentPolicyConfig& p = c.attachments.policies[i];
        return std::vector<Field>{
            {.key = "name", .target = &p.name, .doc = "name in the trace"},
            {.key = "priority", .target = &p.priority, .doc = "lower wins", .min = 0, .max = 1000000},
            {.key = "recipient_domains", .target = &p.recipient_domains, .doc = "recipient domains, or \"*\""},
            {.key = "recipients", .target = &p.recipients, .doc = "recipient addresses"},
            {.key = "action", .target = &p.action, .doc = "off, monitor, block, replace or dynamic_delivery",
             .check = Check::one_of, .choices = {"off", "monitor", "block", "replace", "dynamic_delivery"}},
            {.key = "budget_ms", .target = &p.budget_ms, .doc = "analysis time for one message", .min = 1, .max = 600000},
            {.key = "on_timeout", .target = &p.on_timeout, .doc = "block or deliver when the budget runs out",
             .check = Check::one_of, .choices = {"block", "deliver"}},
            {.key = "on_error", .target = &p.on_error, .doc = "block or deliver on a scan error",
             .check = Check::one_of, .choices = {"block", "deliver"}},
            {.key = "analyze_internal", .target = &p.analyze_internal,
             .doc = "also analyse mail from relay and submission listeners"},
            {.key = "copy_to", .target = &p.copy_to,
             .doc = "monitor: address that receives a copy of messages with malicious attachments"},
            {.key = "deliver_original", .target = &p.deliver_original,
             .doc = "dynamic_delivery: also deliver the original message once its attachments are clean"},
        };
      }});
  return s;
}

namespace {

bool valid_port(std::string_view p) {
  auto v = util::parse_uint(p);
  return v && *v <= 65535;
}

std::string check_host_port(const std::string& v) {
  std::string_view s = v;
  std::string host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return "expected [ipv6]:port, got \"" + v + "\"";
    host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return "\"" + host + "\" is not an IPv6 address";
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return "expected address:port, got \"" + v + "\"";
    host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    in_addr a4;
    if (host != "localhost" && inet_pton(AF_INET, host.c_str(), &a4) != 1)
      return "\"" + host + "\" is not an IPv4 address (use [addr] for IPv6)";
  }
  if (!valid_port(port)) return "port \"" + std::string(port) + "\" is not a number from 0 to 65535";
  return {};
}

std::string check_cidr(const std::string& v) {
  auto slash = v.find('/');
  std::string addr = v.substr(0, slash);
  bool v6 = addr.find(':') != std::string::npos;
  unsigned char buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1)
    return "\"" + v + "\" is not an IP network (address/prefix)";
  if (slash != std::string::npos) {
    auto len = util::parse_uint(std::string_view(v).substr(slash + 1));
    if (!len || *len > (v6 ? 128u : 32u)) return "\"" + v + "\" has a bad prefix length";
  }
  return {};
}

std::string check_domain(const std::string& v) {
  if (v.empty() || v.size() > 253) return "\"" + v + "\" is not a domain name";
  for (auto label : util::split(v, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return "\"" + v + "\" is not a domain name";
    for (char ch : label)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'))
        return "\"" + v + "\" is not a domain name";
  }
  return {};
}

std::string check_string(const Field& f, const std::string& v) {
  switch (f.check) {
    case Check::none: return {};
    case Check::host_port: return check_host_port(v);
    case Check::host_port_or_unix:
      if (v.rfind("unix:", 0) == 0)
        return v.size() > 5 && v[5] == '/' && v.size() < 108 ? "" : "expected unix:/absolute/path, got \"" + v + "\"";
      return check_host_port(v);
    case Check::cidr: return check_cidr(v);
    case Check::domain: return check_domain(v);
    case Check::name_days: {
      auto eq = v.find('=');
      auto days = eq == std::string::npos ? std::nullopt : util::parse_uint(std::string_view(v).substr(eq + 1));
      if (eq == 0 || !days || *days < 1 || *days > 3650)
        return "\"" + v + "\" is not reason=days (days from 1 to 3650)";
      return {};
    }
    case Check::one_of:
      for (const auto& c : f.choices)
        if (c == v) return {};
      {
        std::string msg = "\"" + v + "\" is not one of:";
        for (const auto& c : f.choices) msg += " " + c;
        return msg;
      }
  }
  return {};
}

}  // namespace

std::string check_field(const Field& f) {
  if (auto* s = std::get_if<std::string*>(&f.target)) return check_string(f, **s);
  if (auto* n = std::get_if<std::int64_t*>(&f.target)) {
    if (**n < f.min || **n > f.max)
      return "value " + std::to_string(**n) + " is out of range (" + std::to_string(f.min) + " to " +
             std::to_string(f.max) + ")";
    return {};
  }
  if (auto* list = std::get_if<std::vector<std::string>*>(&f.target)) {
    for (const auto& item : **list)
      if (auto msg = check_string(f, item); !msg.empty()) return msg;
  }
  return {};
}

}  // namespace mailmoat::app

// The gateway's configuration: one TOML file over built-in defaults, then
// `--set key=value` overrides. The schema (every key, its type, default,
// check and one-line doc) is written once in config_schema.cpp and drives
// loading, validation (FILE:LINE: message), `config show` and the example test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailmoat::app {

struct ListenerConfig {
  std::string name = "inbound";
  std::string address = "127.0.0.1:2525";
  std::string role = "inbound";  // inbound | relay | submission
  std::string tls_cert;
  std::string tls_key;
  std::string ocsp_file;  // DER OCSP response stapled for tls_cert (RFC 6066 §8); re-read on SIGHUP
  std::string line_endings = "strict";  // strict | normalize (bare LF accepted: trusted relays only)
};

// A milter listener for Postfix/Sendmail (smtpd_milters = inet:ADDRESS).
struct MilterListenerConfig {
  std::string name = "milter";
  std::string address = "127.0.0.1:8891";
  std::int64_t budget_ms = 5000;
  std::string on_budget_exceeded = "tempfail";  // tempfail | accept | quarantine
};

struct RouteConfig {
  std::string name;  // for transport rules' `route` action; "" when no rule names it
  std::vector<std::string> domains{"*"};
  std::string transport = "smtp";  // maildir | relay | lmtp | smtp
  std::string next_hop;            // relay: "[host]:port"; lmtp: "host:port" or "unix:/path"
};

// One DKIM signing key (RFC 6376); the algorithm comes from the PEM. `next`
// marks the rotation's next key: published in DNS but not used to sign yet.
struct DkimKeyConfig {
  std::string domain;
  std::string selector;
  std::string key_file;
  bool next = false;
};

// More certificates for a listener, chosen by the client's SNI name.
struct TlsCertificateConfig {
  std::string listener;            // listener name
  std::vector<std::string> names;  // server names (a left-most "*." wildcard allowed)
  std::string cert;
  std::string key;
  std::string ocsp_file;  // DER OCSP response stapled for cert
};

// A partner connector (Domain Security, docs/tls.md): what sessions carrying
// mail from the partner's sender domains must show.
struct PartnerConnectorConfig {
  std::string name;
  std::vector<std::string> sender_domains;
  bool require_tls = true;
  bool require_client_certificate = true;
  std::vector<std::string> accepted_names;
  std::string ca_file;
  std::vector<std::string> client_networks;
  std::string refusal = "450 4.7.320";  // "code enhanced-status" when a requirement fails
};

// Outbound TLS for some recipient domains (docs/tls.md), like smtp_tls_policy_maps.
struct TlsPolicyConfig {
  std::vector<std::string> domains;
  std::string level = "may";  // none | may | encrypt | verify | secure | fingerprint
  std::vector<std::string> match;         // names the server certificate must present
  std::vector<std::string> fingerprints;  // level fingerprint: SHA-256 of the server certificate
  std::string ca_file;                    // empty: tls.outbound_ca_file
  std::string client_cert;                // mutual TLS towards a partner
  std::string client_key;
};

// One [[links.policy]] table: Safe Links settings for some recipients (docs/links.md).
struct LinkPolicyConfig {
  std::string name;
  std::int64_t priority = 100;           // lower first
  std::vector<std::string> recipients;   // domains, "*.domain" or addresses
  bool enabled = true;
  bool rewrite_internal = false;
  std::vector<std::string> do_not_rewrite;
  bool wait_for_verdict = false;
  bool allow_click_through = false;
  bool track_clicks = true;
  std::string organization;
  std::string notice;
};

// One Safe Attachments policy ([[attachments.policy]], issue 9).
struct AttachmentPolicyConfig {
  std::string name = "default";
  std::int64_t priority = 100;                     // lowest number wins among matching policies
  std::vector<std::string> recipient_domains{"*"};
  std::vector<std::string> recipients;
  std::string action = "block";                    // off | monitor | block | replace | dynamic_delivery
  std::int64_t budget_ms = 2000;
  std::string on_timeout = "block";                // block | deliver
  std::string on_error = "block";                  // block | deliver
  bool analyze_internal = false;
  std::string copy_to;                             // monitor: copies of malicious mail go here
  bool deliver_original = false;                   // dynamic_delivery: deliver the original once clean
};

struct Config {
  struct Server {
    std::string hostname;  // empty: the system's host name
    std::string node_id;   // empty: derived from the host name
    std::string data_dir = "./var";
    std::int64_t threads = 2;
    std::int64_t shutdown_grace_seconds = 30;
    std::string user;  // started as root: become this user once the ports are bound
  } server;
  struct Log {
    std::string level = "info";
    std::string format = "text";
  } log;
  struct Http {
    std::string listen = "127.0.0.1:8025";
    std::string tls_cert;  // PEM chain; with tls_key: HTTPS (required off loopback)
    std::string tls_key;
    std::int64_t session_minutes = 60;  // console sessions: idle and absolute lifetime
    std::string console_dir;            // built console assets; empty: the build's <build>/console
  } http;
  struct Store {
    std::string url;  // empty: SQLite file in the data directory
    std::int64_t trace_retention_days = 90;
    std::int64_t click_retention_days = 90;
  } store;
  struct DmarcReports {
    bool enabled = false;
    std::string from;      // reporting address, required when enabled
    std::string org_name;  // empty: the host name
    std::string contact;
  } dmarc_reports;
  struct TlsRpt {
    bool enabled = false;  // record outbound TLS results and send daily reports (RFC 8460)
    std::string from;      // reporting address, required when enabled
    std::string org_name;  // empty: the host name
    std::string contact;   // contact-info; empty: `from`
  } tlsrpt;
  struct Quarantine {
    std::int64_t retention_days = 30;
    std::vector<std::string> retention_days_by_reason;  // "malware=90"
  } quarantine;
  struct QuarantineDigest {  // docs/quarantine.md "End-user digests"
    bool enabled = false;
    std::int64_t hour = 7;  // UTC hour of the daily run
    std::string from;       // required when enabled
    std::string public_url; // empty: links.public_url, else http://<http.listen>
    std::vector<std::string> self_release{"spam"};  // reasons recipients may release themselves
    std::int64_t link_valid_days = 14;
  } quarantine_digest;
  struct Smtp {
    std::vector<ListenerConfig> listeners{ListenerConfig{}};
    std::vector<std::string> accepted_domains{"localhost"};
    std::vector<std::string> relay_networks{"127.0.0.0/8", "::1/128"};
    std::string recipient_list;  // file of valid inbound recipients; empty: any address in accepted_domains
    std::int64_t max_message_size = std::int64_t{50} * 1024 * 1024;
    std::int64_t max_recipients = 1000;
    std::int64_t max_command_line = 512;
    std::int64_t max_line_length = 998;
    std::string long_lines = "reject";  // reject | wrap
    std::int64_t max_header_size = std::int64_t{256} * 1024;
    std::int64_t max_errors = 10;
    std::int64_t timeout_seconds = 300;
    std::int64_t busy_timeout_seconds = 30;
    std::int64_t max_connections = 2000;
    std::int64_t max_connections_per_ip = 50;
    std::int64_t max_connection_rate_per_ip = 600;  // new connections per minute
    std::int64_t max_hops = 50;
    std::int64_t filter_budget_ms = 5000;
  } smtp;
  struct Milter {
    std::int64_t timeout_seconds = 600;
    std::int64_t progress_seconds = 10;
    std::vector<MilterListenerConfig> listeners;  // [[milter.listener]]; none: milter mode off
  } milter;
  struct Queue {
    std::int64_t retry_base_seconds = 300;
    std::int64_t retry_max_seconds = 4000;
    std::int64_t max_lifetime_seconds = std::int64_t{5} * 24 * 3600;
    std::int64_t concurrency = 20;
    std::int64_t per_destination_concurrency = 10;
    std::int64_t delivery_timeout_seconds = 300;
    bool bdat = true;
  } queue;
  struct Dns {
    std::vector<std::string> forwarders;  // "127.0.0.1@5353"; empty: full recursion
    std::string trust_anchor_file;
    std::int64_t timeout_ms = 5000;
    std::int64_t cache_entries = 10000;   // in-process answer cache; 0: off
    std::vector<std::string> zone_files;  // offline: answer only from these RFC 1035 files
  } dns;
  struct Auth {
    std::string authserv_id;  // empty: the host name
    bool spf = true, dkim = true, dmarc = true, arc = true, iprev = true;
    std::string dmarc_mode = "rfc9989";  // rfc9989 | rfc7489
    std::string dmarc_on_reject = "reject";  // reject | quarantine | deliver_as_spam
    std::string dmarc_on_quarantine = "quarantine";  // quarantine | deliver_as_spam
    bool dmarc_tempfail_on_temperror = false;
    std::int64_t dmarc_spam_level = 6;
    std::vector<std::string> trusted_arc_sealers;
    std::vector<std::string> dmarc_allow_domains;
    std::vector<std::string> dmarc_allow_networks;
    std::int64_t max_dkim_signatures = 8;
  } auth;
  struct Dkim {
    bool sign = true;
    std::vector<std::string> headers{"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
                                     "In-Reply-To", "References", "MIME-Version", "Content-Type",
                                     "Content-Transfer-Encoding", "Sender", "List-Id", "List-Unsubscribe",
                                     "List-Unsubscribe-Post"};
    // Listed once more than they occur (RFC 6376 8.15) so they cannot be added after signing.
    std::vector<std::string> oversign{"From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To",
                                      "In-Reply-To", "References", "MIME-Version", "Content-Type"};
    std::string canonicalization = "relaxed/relaxed";
    std::vector<DkimKeyConfig> keys;  // [[dkim.key]]
  } dkim;
  struct Arc {
    bool seal = true;
    std::string domain;
    std::string selector;
    std::string key_file;  // empty: no sealing
  } arc;
  struct Connection {
    std::vector<std::string> ip_allow, ip_block;          // CIDR
    std::vector<std::string> sender_allow, sender_block;  // addresses or domains
    std::vector<std::string> dnsbl_zones;
    std::vector<std::string> dnsbl_codes;  // "127.0.0.2=meaning"
    std::int64_t dnsbl_scl = 9;
    std::int64_t dnsbl_timeout_ms = 1500;
  } connection;
  struct Rules {
    std::string file;  // transport rules (docs/rules.md); empty: none
    std::int64_t body_scan_kb = 64;
  } rules;
  struct Verdict {
    std::string scl_header = "X-Mailmoat-SCL";
    std::string verdict_header = "X-Mailmoat-Verdict";
    std::int64_t mark_at = 5, quarantine_at = 7, reject_at = 10;
    std::string mark_subject_prefix;
  } verdict;
  struct Tls {
    std::string outbound_level = "may";  // for recipient domains without a [[tls.policy]]
    std::string outbound_ca_file;        // empty: the system trust store
    bool mta_sts = true;                 // apply recipient domains' MTA-STS policies (MX delivery)
    std::vector<TlsPolicyConfig> policies;            // [[tls.policy]]
    std::vector<TlsCertificateConfig> certificates;  // [[tls.certificate]]
    std::vector<PartnerConnectorConfig> partners;     // [[tls.partner]]
  } tls;
  struct Attachments {
    bool enabled = true;
    std::vector<std::string> block_sha256, allow_sha256, banned_types, banned_extensions;
    std::string block_at = "suspicious";  // suspicious | malicious
    std::int64_t workers = 2;
    std::int64_t worker_max_jobs = 100;
    std::int64_t worker_timeout_ms = 10000;
    std::int64_t worker_memory_mb = 1024;
    std::int64_t worker_cpu_seconds = 60;
    std::int64_t max_archive_depth = 8;
    std::int64_t max_archive_files = 1000;
    std::int64_t max_archive_bytes = 500ll * 1024 * 1024;
    std::int64_t max_archive_ratio = 100;
    std::int64_t cache_entries = 10000;
    std::string clamd;  // "unix:/path" or "host:port"; empty: no ClamAV
    std::string yara_rules_dir;  // *.yar / *.yara compiled at start; empty: no YARA
    std::int64_t fast_path_ms = 300;  // block: no hold when analysis finishes within this
    std::int64_t dynamic_retention_days = 30;  // Dynamic Delivery outcomes and clean originals kept this long
    // CAPE v2 dynamic sandbox for files static analysis finds suspicious; "" = off.
    std::string cape = "";               // host:port (plain HTTP)
    std::string cape_token;              // API token (secret)
    std::int64_t cape_budget_ms = 300000;
    std::int64_t cape_poll_ms = 5000;
    std::int64_t cape_malicious_score = 7;
    std::int64_t cape_suspicious_score = 4;
    std::vector<AttachmentPolicyConfig> policies{AttachmentPolicyConfig{}};
  } attachments;
  std::vector<RouteConfig> routes{RouteConfig{"", {"localhost"}, "maildir", ""}, RouteConfig{}};
  struct Links {  // Safe Links (docs/links.md); bound in links_config_schema.cpp
    bool enabled = false;
    std::string public_url;          // empty: http://<http.listen>
    std::vector<std::string> keys;   // empty: data_dir/links.key, created at first start
    std::int64_t max_urls = 2000;
    bool rewrite_images = false;
    LinkPolicyConfig policy;  // the [links] policy keys are the default policy (everyone not in a [[links.policy]])
    std::vector<std::string> block_lists;
    std::vector<std::string> allow_lists;
    std::int64_t list_check_seconds = 30;
    std::vector<std::string> protected_domains;
    std::vector<std::string> shorteners{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
                                        "rebrand.ly", "cutt.ly", "shorturl.at"};
    bool resolve_shorteners = false;       // ask a shortener where its link leads, at click time only
    std::int64_t shortener_timeout_ms = 2000;
    std::int64_t max_subdomain_depth = 5;
    std::int64_t cache_entries = 10000;
    std::int64_t cache_seconds = 300;
    std::vector<std::string> preview_agents{"Slackbot", "Twitterbot", "facebookexternalhit", "LinkedInBot",
                                            "TelegramBot", "WhatsApp", "Discordbot", "SkypeUriPreview",
                                            "Microsoft Office", "MSOffice", "Google-Safety", "Googlebot",
                                            "bingbot", "Barracuda", "Mimecast", "Proofpoint", "python-requests",
                                            "curl/", "Wget/"};
  } links;
  std::vector<LinkPolicyConfig> link_policies;  // [[links.policy]]
};

struct Diagnostic {
  std::string file;
  std::int64_t line = 0;  // 0 when the problem has no line (a --set override)
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  Config config;
  std::vector<Diagnostic> errors;
  std::vector<std::string> keys_seen;  // dotted keys the file set, e.g. "smtp.listener.address"
  bool ok() const { return errors.empty(); }
};

// Loads `path` over the defaults; an empty path means defaults only.
// Overrides are "key=value" with value in TOML syntax (bare words are strings).
LoadResult load_config(const std::string& path, const std::vector<std::string>& overrides = {});
LoadResult load_config_text(std::string_view text, const std::string& name,
                            const std::vector<std::string>& overrides = {});

// The effective configuration as TOML; secrets are shown as "(secret)".
std::string render_config(const Config& config);

// Every key of the schema (dotted, array elements without index).
std::vector<std::string> all_config_keys();

}  // namespace mailmoat::app

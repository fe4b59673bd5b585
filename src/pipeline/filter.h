// The filter pipeline (DESIGN.md §1): what a filter sees, what it may decide
// and how it asks for changes. SMTP and milter are two front ends of one
// pipeline: no filter knows which one carried the message. Filters answer
// through a callback so that they may wait on DNS or a store without blocking;
// the front end bounds the whole chain by a time budget.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mailmoat::pipeline {

struct TlsFacts {
  bool active = false;
  std::string version;  // "TLSv1.3"
  std::string cipher;
  std::string peer_subject;
  std::vector<std::string> peer_names;  // SAN dNSNames
  bool peer_verified = false;
  std::string server_name;                  // SNI the client asked for
  std::string verify_error;                 // why a presented certificate did not verify
  std::vector<std::string> peer_chain_der;  // client certificate chain, leaf first
  // Set by the partner_connector filter: the connector that covered the
  // sender domain, and whether its mutual-TLS requirements were met.
  std::string connector;
  bool domain_secured = false;
};

struct ConnectionFacts {
  std::string client_address;
  std::uint16_t client_port = 0;
  std::string client_name;  // verified reverse name, or "unknown"
  std::string listener;     // listener name from configuration
  std::string role;         // inbound | relay | submission | milter
  std::string helo;
  TlsFacts tls;
};

struct EnvelopeRecipient {
  std::string address;
  std::string notify;  // RFC 3461 NOTIFY
  std::string orcpt;
};

struct Envelope {
  std::string sender;  // "" for the null reverse-path
  std::vector<EnvelopeRecipient> recipients;
  std::string body_type;  // 7BIT, 8BITMIME
  bool smtputf8 = false;
  std::string ret;    // RFC 3461 RET
  std::string envid;  // RFC 3461 ENVID
  bool requiretls = false;
};

enum class Disposition { accept, reject, tempfail, quarantine, hold, discard };

struct Verdict {
  Disposition disposition = Disposition::accept;
  int code = 0;          // SMTP reply code for reject/tempfail; 0: the default for the disposition
  std::string enhanced;  // "5.7.1"
  std::string text;      // reply text shown to the client
  std::string filter;    // which filter decided
  std::string reason;    // why, for the trace
  // For quarantine: the quarantine reason (spam, phish, malware, spoof, rule...),
  // which sets the retention; empty: the deciding filter's name.
  std::string category;
  static Verdict accept() { return {}; }
};

struct HeaderEdit {
  enum class Op { prepend, append, remove, replace };
  Op op = Op::prepend;
  std::string name;
  std::string value;  // unused for remove
};

// What filters ask to change; applied once, in order, after the chain ran.
struct Edits {
  std::vector<HeaderEdit> headers;
  std::optional<std::string> body;  // replacement body (after the blank line)
  std::vector<std::string> add_recipients;
  std::vector<std::string> remove_recipients;
  bool empty() const { return headers.empty() && !body && add_recipients.empty() && remove_recipients.empty(); }
};

// Authentication results as result words (RFC 8601 §2.7), set by the auth
// filter so that later filters (rules) test them without parsing headers.
struct AuthSummary {
  std::string spf, dkim, dmarc, arc, compauth;
  std::string dmarc_policy;  // none | quarantine | reject: the policy the sender's domain requested
};

// One record of what a filter found, for the message trace.
struct TraceNote {
  std::string filter;
  std::string event;
  std::string detail;
};

// One attachment as Safe Attachments saw it (issue 9), for the rules engine
// and the trace; set by the attachments filter.
struct AttachmentFact {
  std::string name;
  std::string extension;  // lower case, no dot
  std::string declared_type;
  std::string true_type;
  std::uint64_t size = 0;
  std::string sha256;
  bool executable = false;
  bool password_protected = false;
  bool scan_incomplete = false;
  std::string verdict;  // clean | suspicious | malicious | scan error
  std::vector<std::string> reasons;
  std::string text;  // text found in the file by the analysis (capped), for rules
};

// How the queue must deliver this message, asked for by transport rules
// (issue 7) and kept with the queued message across restarts.
struct DeliveryRequests {
  std::string route;          // name of a [[route]]: every recipient goes through it
  bool require_tls = false;   // outbound SMTP must use TLS verified at least as `verify`
  std::int64_t hold_until = 0;  // unix seconds; 0: no timed hold
  std::string hold_reason;
};

// A disclaimer a transport rule asked for (issue 7). The rules filter records
// it; the disclaimer filter adds it after every other body change (Safe Links)
// and before signing, so the signature covers it.
struct DisclaimerRequest {
  std::string rule;
  std::string text, html;  // UTF-8; html "": the text, escaped
  bool prepend = false;
  std::string fallback = "wrap";  // wrap | ignore | reject: when the message cannot be changed
};

struct MessageContext {
  ConnectionFacts connection;
  Envelope envelope;
  std::string message;  // the message as received (CRLF line ends, no dot-stuffing)
  std::string queue_id;
  // The MTA's own queue id when mailmoat runs as its milter (macro "i"); "" otherwise.
  std::string mta_queue_id;
  Edits edits;
  std::vector<TraceNote> notes;
  // ARC chain validation of the message as received (none|pass|fail), set by
  // the auth filter; "" when not validated. The signing filter seals with it.
  std::string arc_cv;
  AuthSummary auth;
  // Spam confidence level (-1 bypass .. 9) set by checks and rules; nullopt:
  // none set. With the reason codes, it becomes X-Mailmoat-SCL / -Verdict.
  std::optional<int> scl;
  std::vector<std::string> verdict_reasons;
  std::vector<AttachmentFact> attachments;
  DeliveryRequests delivery;
  // Set when a transport rule ended rule processing, so that the second rules
  // pass (rules on attachment facts, after Safe Attachments) does not run.
  bool rules_stopped = false;
  std::optional<DisclaimerRequest> disclaimer;
  // Work that must happen once the message's fate is final (refused for good,
  // or taken into the queue), such as a rule's notification. The front end runs
  // it through run_final_actions; a temporary failure skips it, because the
  // client sends the message again and the work would be done twice.
  std::vector<std::function<void(MessageContext&)>> final_actions;
};

// Runs and clears context.final_actions unless `verdict` is a temporary failure.
void run_final_actions(MessageContext& context, const Verdict& verdict);

class Filter {
 public:
  using Done = std::move_only_function<void(Verdict)>;
  virtual ~Filter() = default;
  virtual std::string name() const = 0;
  // Called once per message at end of data; `done` must be called exactly once.
  virtual void on_message(MessageContext& context, Done done) = 0;
};

}  // namespace mailmoat::pipeline

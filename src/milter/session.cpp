#include "milter/session.h"

#include <algorithm>

#include "mail/message.h"
#include "milter/modifications.h"
#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::milter {

namespace {

// What mailmoat asks for at negotiation, masked by what the MTA offers.
constexpr std::uint32_t kWantedActions = action::add_headers | action::change_headers | action::change_body |
                                         action::add_rcpt | action::del_rcpt | action::change_from |
                                         action::quarantine | action::setsymlist;
// No reply to any step before end of message (mailmoat decides there), and
// header values with their leading white space, so signatures see the bytes.
constexpr std::uint32_t kWantedProtocol = step::nr_connect | step::nr_helo | step::nr_mail | step::nr_rcpt |
                                          step::nr_data | step::nr_header | step::nr_eoh | step::nr_body |
                                          step::nr_unknown | step::header_leading_space;

// The macros mailmoat reads, per stage (SMFIR_SETSYMLIST); Postfix's defaults
// carry most of them, Sendmail's do not.
const std::vector<std::pair<MacroStage, std::string>>& wanted_macros() {
  static const std::vector<std::pair<MacroStage, std::string>> lists{
      {MacroStage::connect, "j {daemon_name} {client_addr} {client_port} {client_name}"},
      {MacroStage::helo, "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"},
      {MacroStage::envfrom, "i {auth_type} {auth_authen} {mail_addr}"},
      {MacroStage::envrcpt, "{rcpt_addr}"},
      {MacroStage::eom, "i"},
  };
  return lists;
}

std::string macro_name(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '{' && raw.back() == '}') return std::string(raw.substr(1, raw.size() - 2));
  return std::string(raw);
}

// Milter values fold with LF (Postfix) or CRLF; the message model wants CRLF.
std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

std::string strip_angles(std::string_view s) {
  s = util::trim(s);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

// ESMTP keyword=value from MAIL/RCPT arguments, keyword ASCII case-insensitive.
std::string esmtp_param(const std::vector<std::string>& args, std::string_view key, bool* present = nullptr) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::size_t eq = a.find('=');
    if (util::iequals(a.substr(0, eq), key)) {
      if (present) *present = true;
      return eq == std::string_view::npos ? std::string() : std::string(a.substr(eq + 1));
    }
  }
  return {};
}

bool is_message_stage(char c) {
  return c == command::mail || c == command::rcpt || c == command::data || c == command::header ||
         c == command::eoh || c == command::body || c == command::body_eob;
}

}  // namespace

std::string Session::macro(const std::string& name) const {
  auto it = macros_.find(name);
  return it == macros_.end() ? std::string() : it->second;
}

Session::Step Session::continue_unless(std::uint32_t no_reply_flag) const {
  Step s;
  if ((agreed_.protocol & no_reply_flag) == 0) s.out = encode(reply::cont);
  return s;
}

Session::Step Session::negotiate(const Packet& p) {
  std::string why;
  auto offer = parse_optneg(p.data, why);
  if (!offer) return Step{{}, Action::close, why};
  if (offer->version < 2) return Step{{}, Action::close, "MTA speaks milter version " + std::to_string(offer->version)};
  agreed_.version = std::min(offer->version, kVersion);
  agreed_.actions = offer->actions & kWantedActions;
  // Before version 6 the MTA cannot skip replies; ask only for what it offers.
  agreed_.protocol = agreed_.version >= 6 ? offer->protocol & kWantedProtocol : 0;
  negotiated_ = true;
  const bool symlist = (agreed_.actions & action::setsymlist) != 0;
  return Step{encode_optneg(agreed_, symlist ? wanted_macros() : std::vector<std::pair<MacroStage, std::string>>{}),
              Action::none, {}};
}

Session::Step Session::on_packet(const Packet& p) {
  if (p.command == command::optneg) return negotiate(p);
  if (!negotiated_) return Step{{}, Action::close, "command " + command_name(p.command) + " before option negotiation"};
  std::string why;
  switch (p.command) {
    case command::macro: {
      auto m = parse_macros(p.data, why);
      if (!m) return Step{{}, Action::close, why};
      for (auto& [name, value] : m->second) macros_[macro_name(name)] = value;
      if (is_message_stage(m->first))
        for (auto& [name, value] : m->second) message_macros_.push_back(macro_name(name));
      return {};
    }
    case command::connect: {
      auto c = parse_connect(p.data, why);
      if (!c) return Step{{}, Action::close, why};
      connect_ = std::move(*c);
      return continue_unless(step::nr_connect);
    }
    case command::helo: {
      auto s = parse_strings(p.data, why);
      if (!s) return Step{{}, Action::close, why};
      helo_ = s->front();
      return continue_unless(step::nr_helo);
    }
    case command::mail: {
      auto s = parse_strings(p.data, why);
      if (!s) return Step{{}, Action::close, why};
      reset_transaction();  // MAIL starts a transaction; its macros came just before it
      mail_args_ = std::move(*s);
      return continue_unless(step::nr_mail);
    }
    case command::rcpt: {
      auto s = parse_strings(p.data, why);
      if (!s) return Step{{}, Action::close, why};
      rcpts_.push_back(std::move(*s));
      return continue_unless(step::nr_rcpt);
    }
    case command::data: return continue_unless(step::nr_data);
    case command::header: {
      auto h = parse_header(p.data, why);
      if (!h) return Step{{}, Action::close, why};
      std::string field = h->name + ":";
      if ((agreed_.protocol & step::header_leading_space) == 0) field += ' ';
      field += crlf(h->value) + "\r\n";
      size_ += field.size();
      if (size_ > config_.max_message_size) too_big_ = true;
      if (!too_big_) headers_ += field;
      return continue_unless(step::nr_header);
    }
    case command::eoh: return continue_unless(step::nr_eoh);
    case command::body: {
      size_ += p.data.size();
      if (size_ > config_.max_message_size) too_big_ = true;
      if (!too_big_) body_ += p.data;
      return continue_unless(step::nr_body);
    }
    case command::body_eob: {
      size_ += p.data.size();
      if (size_ > config_.max_message_size) too_big_ = true;
      if (!too_big_) body_ += p.data;
      auto ctx = std::make_shared<pipeline::MessageContext>();
      if (!too_big_) received_ = build_message();
      fill_context(*ctx);
      ctx->message = received_;
      message_ = std::move(ctx);
      return Step{{}, Action::end_of_message, {}};
    }
    case command::abort: reset_message(); return {};
    case command::quit: return Step{{}, Action::close, {}};
    case command::quit_nc: reset_connection(); return {};
    case command::unknown: {
      if (!parse_strings(p.data, why)) return Step{{}, Action::close, why};
      return continue_unless(step::nr_unknown);
    }
    default: break;
  }
  return Step{{}, Action::close, "unknown command " + command_name(p.command)};
}

std::shared_ptr<pipeline::MessageContext> Session::received_context() const {
  auto ctx = std::make_shared<pipeline::MessageContext>();
  fill_context(*ctx);
  ctx->message = received_;
  if (message_) ctx->queue_id = message_->queue_id;
  return ctx;
}

std::string Session::build_message() const {
  std::string m = headers_ + "\r\n" + body_;
  return mail::needs_normalization(m) ? mail::normalize_line_endings(m) : m;
}

std::string Session::role() const {
  if (!macro("auth_authen").empty()) return "submission";
  std::string ip = macro("client_addr").empty() ? connect_.address : macro("client_addr");
  if (config_.is_relay_client && !ip.empty() && config_.is_relay_client(ip)) return "relay";
  return "inbound";
}

void Session::fill_context(pipeline::MessageContext& ctx) const {
  auto& c = ctx.connection;
  c.client_address = connect_.address.empty() ? macro("client_addr") : connect_.address;
  if (c.client_address.empty()) c.client_address = "unknown";
  c.client_port = connect_.port;
  c.client_name = connect_.hostname.empty() ? macro("client_name") : connect_.hostname;
  c.listener = config_.listener;
  c.role = role();
  c.helo = helo_;
  c.tls.version = macro("tls_version");
  c.tls.active = !c.tls.version.empty();
  c.tls.cipher = macro("cipher");
  c.tls.peer_subject = macro("cert_subject");
  auto& e = ctx.envelope;
  if (!mail_args_.empty()) e.sender = strip_angles(mail_args_[0]);
  e.body_type = util::to_lower(esmtp_param(mail_args_, "BODY")) == "8bitmime" ? "8BITMIME" : "7BIT";
  esmtp_param(mail_args_, "SMTPUTF8", &e.smtputf8);
  e.ret = esmtp_param(mail_args_, "RET");
  e.envid = esmtp_param(mail_args_, "ENVID");
  esmtp_param(mail_args_, "REQUIRETLS", &e.requiretls);
  for (const auto& r : rcpts_)
    e.recipients.push_back(
        pipeline::EnvelopeRecipient{strip_angles(r.front()), esmtp_param(r, "NOTIFY"), esmtp_param(r, "ORCPT")});
  ctx.mta_queue_id = macro("i");
}

void Session::reset_message() {
  reset_transaction();
  // Macros of the last transaction (queue id, sender) must not leak into the next.
  for (const auto& name : message_macros_) macros_.erase(name);
  message_macros_.clear();
}

void Session::reset_transaction() {
  mail_args_.clear();
  rcpts_.clear();
  headers_.clear();
  body_.clear();
  size_ = 0;
  too_big_ = false;
  received_.clear();
  message_.reset();
}

void Session::reset_connection() {
  reset_message();
  macros_.clear();
  connect_ = {};
  helo_.clear();
}

std::string Session::final_reply(const pipeline::Verdict& v, std::string& summary) const {
  using pipeline::Disposition;
  if (v.disposition == Disposition::discard) {
    summary = "discard";
    return encode(reply::discard);
  }
  const bool reject = v.disposition == Disposition::reject;
  int code = v.code;
  if (reject && (code < 500 || code > 599)) code = 550;
  if (!reject && (code < 400 || code > 499)) code = 451;
  std::string enhanced = v.enhanced;
  if (enhanced.empty() || enhanced[0] != static_cast<char>('0' + code / 100)) enhanced = reject ? "5.7.1" : "4.7.1";
  std::string text = v.text.empty() ? (reject ? "Message refused" : "Try again later") : v.text;
  summary = (reject ? "reject " : "tempfail ") + std::to_string(code) + " " + enhanced + " " + text;
  return encode_replycode(code, enhanced, text);
}

bool Session::modifications(const pipeline::MessageContext& ctx, Changes& c) const {
  std::string final = ctx.message;
  pipeline::apply_edits(final, ctx.edits);
  auto diff = diff_messages(received_, final, (agreed_.protocol & step::header_leading_space) != 0, c.why);
  if (!diff) return false;
  if (diff->removed && !may(action::change_headers)) c.missing = "CHGHDRS";
  if (diff->inserted && !may(action::add_headers)) c.missing = "ADDHDRS";
  if (diff->body_replaced && !may(action::change_body)) c.missing = "CHGBODY";
  for (auto& p : diff->packets) c.out += p;
  if (diff->inserted || diff->removed)
    c.summary += " +" + std::to_string(diff->inserted) + " -" + std::to_string(diff->removed) + " headers";
  if (diff->body_replaced) c.summary += ", body replaced";
  const std::string original_sender = mail_args_.empty() ? std::string() : strip_angles(mail_args_[0]);
  if (ctx.envelope.sender != original_sender) {
    if (!may(action::change_from)) c.missing = "CHGFROM";
    c.out += encode_change_from(ctx.envelope.sender);
    c.summary += ", sender changed";
  }
  for (const auto& r : ctx.edits.add_recipients) {
    if (!may(action::add_rcpt)) c.missing = "ADDRCPT";
    c.out += encode_add_rcpt(r);
    c.summary += ", +rcpt " + r;
  }
  for (const auto& r : ctx.edits.remove_recipients) {
    if (!may(action::del_rcpt)) c.missing = "DELRCPT";
    c.out += encode_del_rcpt(r);
    c.summary += ", -rcpt " + r;
  }
  return true;
}

Session::Finish Session::finish(const pipeline::Verdict& verdict, const pipeline::MessageContext* final_ctx) {
  using pipeline::Disposition;
  Finish f;
  const bool keeps = verdict.disposition == Disposition::accept || verdict.disposition == Disposition::quarantine ||
                     verdict.disposition == Disposition::hold;
  Changes c;
  if (!keeps) {
    f.out = final_reply(verdict, f.summary);
  } else if (final_ctx && !modifications(*final_ctx, c)) {
    pipeline::Verdict v{Disposition::tempfail, 451, "4.3.0", "Message could not be processed, try again later",
                        "milter", "diff failed", ""};
    f.out = final_reply(v, f.summary);
    f.summary += " (" + c.why + ")";
  } else {
    const bool hold = verdict.disposition != Disposition::accept;
    if (hold && !may(action::quarantine)) c.missing = "QUARANTINE";
    if (!c.missing.empty()) {
      // Half a result (say, a forged Authentication-Results left in) is worse than a retry.
      pipeline::Verdict v{Disposition::tempfail, 451, "4.7.0",
                          "mailmoat needs the milter action " + c.missing + ", which the MTA did not grant", "milter",
                          "action not granted", ""};
      f.out = final_reply(v, f.summary);
    } else {
      f.out = std::move(c.out);
      if (hold) {
        std::string reason = "mailmoat " + verdict.filter + ": " + verdict.reason;
        f.out += encode_quarantine(reason);
        f.summary = "quarantine (" + reason + ")";
      } else {
        f.summary = "accept";
      }
      f.summary += c.summary;
      f.out += encode(reply::cont);
    }
  }
  ++messages_;
  reset_message();
  return f;
}

}  // namespace mailmoat::milter

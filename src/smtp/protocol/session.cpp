#include "smtp/protocol/session.h"

#include <algorithm>

#include "util/address_list.h"
#include "util/strings.h"

namespace mailmoat::smtp {

Session::Session(SessionConfig config) : cfg_(std::move(config)) {}

Reply Session::greeting() const { return Reply(220, "", cfg_.hostname + " ESMTP mailmoat"); }

Session::Step Session::reply(Reply r) {
  Step s;
  s.replies.push_back(std::move(r));
  return s;
}

Session::Step Session::error(Reply r) {
  Step s = reply(std::move(r));
  if (++errors_ >= cfg_.max_errors) {
    s.replies.push_back(Reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing connection"));
    s.action = Action::close;
  }
  return s;
}

void Session::reset_transaction() {
  txn_ = Transaction{};
  in_mail_ = false;
  in_bdat_ = false;
  bdat_last_ = false;
  bdat_failed_ = false;
  content_.reset();
}

std::vector<std::string> Session::ehlo_lines() const {
  std::vector<std::string> lines{cfg_.hostname + " greets " + helo_};
  lines.push_back("PIPELINING");
  lines.push_back("SIZE " + std::to_string(cfg_.content.max_message_size));
  lines.push_back("8BITMIME");
  lines.push_back("SMTPUTF8");
  lines.push_back("ENHANCEDSTATUSCODES");
  lines.push_back("DSN");
  if (cfg_.chunking) lines.push_back("CHUNKING");
  if (cfg_.starttls_available && !tls_active_) lines.push_back("STARTTLS");
  if (tls_active_ && cfg_.requiretls) lines.push_back("REQUIRETLS");
  return lines;
}

Session::Step Session::on_line_too_long() {
  return error(Reply(500, "5.5.2", "Command line too long (limit " + std::to_string(cfg_.max_command_line) + ")"));
}

Session::Step Session::on_bare_line_ending() {
  Step s = reply(Reply(554, "5.5.2", "Bare <LF> or <CR> in command; line ends must be <CR><LF>"));
  s.action = Action::close;
  return s;
}

Session::Step Session::on_line(std::string_view line) {
  bool utf8 = in_mail_ && txn_.params.smtputf8;
  ParseOutcome parsed = parse_command(line, utf8);
  if (auto* r = std::get_if<Reply>(&parsed)) return error(*r);
  const Command& c = std::get<Command>(parsed);
  // RFC 3030 §2: only BDAT, RSET, QUIT and NOOP may follow a non-LAST chunk.
  if (in_bdat_ && c.verb != Verb::bdat && c.verb != Verb::rset && c.verb != Verb::quit && c.verb != Verb::noop)
    return error(Reply(503, "5.5.1", "Only BDAT, RSET, NOOP or QUIT may follow a BDAT chunk"));
  switch (c.verb) {
    case Verb::ehlo:
    case Verb::helo: return on_ehlo(c);
    case Verb::mail: return on_mail(c);
    case Verb::rcpt: return on_rcpt(c);
    case Verb::data: return on_data();
    case Verb::bdat: return on_bdat(c);
    case Verb::rset:
      reset_transaction();
      return reply(Reply(250, "2.0.0", "OK"));
    case Verb::noop: return reply(Reply(250, "2.0.0", "OK"));
    case Verb::quit: {
      Step s = reply(Reply(221, "2.0.0", cfg_.hostname + " closing connection"));
      s.action = Action::close;
      return s;
    }
    case Verb::vrfy: return reply(Reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery"));
    case Verb::expn: return error(Reply(502, "5.5.1", "EXPN is not available"));
    case Verb::help: return reply(Reply(214, "2.0.0", "See RFC 5321; mailmoat accepts ESMTP with PIPELINING and CHUNKING"));
    case Verb::auth: return error(Reply(502, "5.5.1", "AUTH is not available on this listener"));
    case Verb::starttls: {
      if (!cfg_.starttls_available) return error(Reply(502, "5.5.1", "STARTTLS is not available on this listener"));
      if (tls_active_) return error(Reply(503, "5.5.1", "TLS is already active"));
      if (in_mail_) return error(Reply(503, "5.5.1", "STARTTLS is not allowed inside a mail transaction"));
      Step s = reply(Reply(220, "2.0.0", "Ready to start TLS"));
      s.action = Action::start_tls;
      return s;
    }
    case Verb::unknown: break;
  }
  return error(Reply(500, "5.5.2", "Command not recognized"));
}

Session::Step Session::on_ehlo(const Command& c) {
  reset_transaction();
  helo_ = c.argument;
  esmtp_ = c.verb == Verb::ehlo;
  if (!esmtp_) return reply(Reply(250, "", cfg_.hostname));
  Reply r;
  r.code = 250;
  r.lines = ehlo_lines();
  return reply(std::move(r));
}

Session::Step Session::on_mail(const Command& c) {
  if (helo_.empty()) return error(Reply(503, "5.5.1", "Send EHLO or HELO first"));
  if (in_mail_) return error(Reply(503, "5.5.1", "Nested MAIL command"));
  if (c.mail.size && *c.mail.size > cfg_.content.max_message_size)
    return error(Reply(552, "5.3.4", "Message size exceeds fixed limit of " +
                                         std::to_string(cfg_.content.max_message_size) + " bytes"));
  if (c.mail.requiretls && !cfg_.requiretls)
    return error(Reply(555, "5.5.4", "REQUIRETLS is not supported here"));
  if (c.mail.requiretls && !tls_active_)
    return error(Reply(530, "5.7.10", "REQUIRETLS needs a TLS session (RFC 8689)"));
  // The block list needs no message facts: refuse before any content is sent.
  if (!c.path.address.empty() && util::sender_listed(c.path.address, cfg_.blocked_senders))
    return error(Reply(550, "5.7.1", "Sender address rejected: on the block list"));
  txn_ = Transaction{};
  txn_.sender = c.path;
  txn_.params = c.mail;
  in_mail_ = true;
  return reply(Reply(250, "2.1.0", "Sender <" + c.path.address + "> OK"));
}

std::optional<Reply> Session::check_recipient(const Path& p) const {
  static const Reply denied(554, "5.7.1", "Relay access denied");
  const std::string domain = p.domain();
  if (domain.empty()) return std::nullopt;  // <postmaster>: always ours (RFC 5321 §4.5.1)
  bool accepted = std::find(cfg_.accepted_domains.begin(), cfg_.accepted_domains.end(), domain) !=
                  cfg_.accepted_domains.end();
  switch (cfg_.role) {
    case Role::inbound:
      if (!accepted) return denied;
      if (cfg_.recipients && !cfg_.recipients->contains(p.address))
        return Reply(550, "5.1.1", "<" + p.address + ">: Recipient address rejected: user unknown");
      return std::nullopt;
    case Role::relay:
    case Role::submission: return cfg_.client_may_relay ? std::nullopt : std::optional<Reply>(denied);
  }
  return denied;
}

Session::Step Session::on_rcpt(const Command& c) {
  if (!in_mail_) return error(Reply(503, "5.5.1", "Need MAIL before RCPT"));
  if (txn_.recipients.size() >= cfg_.max_recipients)
    return reply(Reply(452, "4.5.3", "Too many recipients"));
  if (auto denied = check_recipient(c.path)) return error(*denied);
  txn_.recipients.push_back(Recipient{c.path, c.rcpt});
  return reply(Reply(250, "2.1.5", "Recipient <" + c.path.address + "> OK"));
}

Session::Step Session::on_data() {
  if (!in_mail_) return error(Reply(503, "5.5.1", "Need MAIL before DATA"));
  if (txn_.recipients.empty()) return error(Reply(554, "5.5.1", "No valid recipients"));
  content_ = std::make_unique<ContentReader>(ContentReader::Mode::data, cfg_.content);
  Step s = reply(Reply(354, "", "End data with <CR><LF>.<CR><LF>"));
  s.action = Action::read_data;
  return s;
}

Session::Step Session::on_bdat(const Command& c) {
  if (!cfg_.chunking) return error(Reply(502, "5.5.1", "CHUNKING is not available"));
  // The chunk is read even when the command is refused, so the stream stays in step.
  if (!in_mail_ || (txn_.recipients.empty() && !in_bdat_)) {
    bdat_failed_ = true;
    in_bdat_ = true;
  }
  if (!content_) content_ = std::make_unique<ContentReader>(ContentReader::Mode::bdat, cfg_.content);
  in_bdat_ = true;
  bdat_size_ = c.chunk_size;
  bdat_last_ = c.last_chunk;
  Step s;
  s.action = Action::read_bdat;
  return s;
}

Session::Step Session::chunk_received() {
  if (content_->status() == ContentReader::Status::protocol_error) {
    Step s = reply(content_->protocol_reply());
    s.action = Action::close;
    return s;
  }
  if (bdat_failed_) {
    bool last = bdat_last_;
    Reply r = !in_mail_ ? Reply(503, "5.5.1", "Need MAIL before BDAT") : Reply(554, "5.5.1", "No valid recipients");
    if (last) reset_transaction();
    return error(r);
  }
  if (!bdat_last_) return reply(Reply(250, "2.0.0", std::to_string(bdat_size_) + " octets received"));
  content_->finish_bdat();
  return content_complete();
}

Session::Step Session::content_complete() {
  if (content_->status() == ContentReader::Status::protocol_error) {
    Step s = reply(content_->protocol_reply());
    s.action = Action::close;
    return s;
  }
  if (content_->limit_reply()) {
    Reply r = *content_->limit_reply();
    reset_transaction();
    return error(r);
  }
  Step s;
  s.action = Action::end_of_message;
  return s;
}

Session::Step Session::message_done(Reply r) {
  if (r.positive()) ++accepted_;
  reset_transaction();
  return reply(std::move(r));
}

void Session::tls_started() {
  // RFC 3207 §4.2: forget everything learned before TLS, including EHLO.
  reset_transaction();
  helo_.clear();
  esmtp_ = false;
  tls_active_ = true;
}

}  // namespace mailmoat::smtp

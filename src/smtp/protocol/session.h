// The SMTP server session as a pure state machine (RFC 5321 §4.1.4 command
// order, RFC 2920 pipelining, RFC 3030 BDAT, RFC 3207 STARTTLS reset). It
// takes command lines and content, and returns replies plus what the I/O
// shell must do next (read content, start TLS, run filters, queue, close).
// It never touches a socket, a clock or the disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtp/protocol/command.h"
#include "smtp/protocol/content.h"
#include "smtp/protocol/recipient_list.h"
#include "smtp/protocol/reply.h"

namespace mailmoat::smtp {

enum class Role { inbound, relay, submission };

struct SessionConfig {
  std::string hostname = "localhost";
  Role role = Role::inbound;
  bool client_may_relay = false;             // client address is in the relay networks
  std::vector<std::string> accepted_domains;  // lower case
  // When set, inbound recipients in accepted domains must be on it (550 5.1.1 otherwise).
  std::shared_ptr<const RecipientList> recipients;
  std::size_t max_recipients = 1000;
  std::size_t max_errors = 10;
  std::size_t max_command_line = 512;  // octets including CRLF (RFC 5321 §4.5.3.1.4)
  ContentLimits content;
  bool starttls_available = false;
  bool chunking = true;
  // RFC 8689: only advertised when delivery can honour it (verified TLS to the
  // next hop); until the TLS policy work lands, it is off and REQUIRETLS is refused.
  bool requiretls = false;
  // connection.sender_block: refused at MAIL FROM (lower case addresses, or domains with subdomains).
  std::vector<std::string> blocked_senders;
};

struct Recipient {
  Path path;
  RcptParams params;
};

struct Transaction {
  Path sender;
  MailParams params;
  std::vector<Recipient> recipients;
};

class Session {
 public:
  enum class Action {
    none,            // send the replies, read the next command
    read_data,       // send the 354 reply, then feed content() until it completes
    read_bdat,       // read exactly bdat_size() bytes into content(), then call chunk_received()
    start_tls,       // send the 220 reply, discard any buffered input, handshake, then tls_started()
    end_of_message,  // content is complete: run the filters, queue, then message_done(reply)
    close,           // send the replies and close the connection
  };
  struct Step {
    std::vector<Reply> replies;
    Action action = Action::none;
  };

  explicit Session(SessionConfig config);

  Reply greeting() const;
  Step on_line(std::string_view line);  // one command line, without its CRLF
  Step on_line_too_long();              // the shell saw a command line over the limit
  Step on_bare_line_ending();           // the shell saw a command ending in bare LF or CR

  ContentReader& content() { return *content_; }
  std::uint64_t bdat_size() const { return bdat_size_; }
  Step content_complete();  // after read_data completes, or BDAT LAST
  Step chunk_received();    // after a BDAT chunk was read
  Step message_done(Reply reply);  // the result of filters + spool for the current message
  void tls_started();

  const Transaction& transaction() const { return txn_; }
  const std::string& helo_name() const { return helo_; }
  bool esmtp() const { return esmtp_; }
  bool tls_active() const { return tls_active_; }
  std::size_t messages_accepted() const { return accepted_; }

 private:
  Step reply(Reply r);
  Step error(Reply r);  // counts towards max_errors
  Step on_ehlo(const Command& c);
  Step on_mail(const Command& c);
  Step on_rcpt(const Command& c);
  Step on_data();
  Step on_bdat(const Command& c);
  std::optional<Reply> check_recipient(const Path& p) const;
  void reset_transaction();
  std::vector<std::string> ehlo_lines() const;

  SessionConfig cfg_;
  std::string helo_;
  bool esmtp_ = false;
  bool tls_active_ = false;
  bool in_mail_ = false;
  bool in_bdat_ = false;
  bool bdat_last_ = false;
  bool bdat_failed_ = false;
  std::uint64_t bdat_size_ = 0;
  std::size_t errors_ = 0;
  std::size_t accepted_ = 0;
  Transaction txn_;
  std::unique_ptr<ContentReader> content_;
};

}  // namespace mailmoat::smtp

// One milter connection from the MTA, as a pure state machine: option
// negotiation, macros, connect/helo/envelope/headers/body accumulated into a
// pipeline::MessageContext, and at end of message the replies for the filter
// chain's verdict (modifications diffed from the final message, then the
// final reply). The I/O shell (milter/server) only moves packets and runs the
// chain. Role: "submission" when {auth_authen} is set, "relay" when the SMTP
// client is in the relay networks, else "inbound" (docs/milter.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "milter/protocol.h"
#include "pipeline/filter.h"

namespace mailmoat::milter {

struct SessionConfig {
  std::string listener = "milter";
  // True when the SMTP client address may relay (smtp.relay_networks).
  std::function<bool(const std::string&)> is_relay_client;
  std::uint64_t max_message_size = std::uint64_t{50} * 1024 * 1024;
};

class Session {
 public:
  enum class Action {
    none,            // send `out` (may be empty), read on
    close,           // send `out`, then close (quit, or a protocol error in `error`)
    end_of_message,  // run the filter chain over message(), then finish()
  };
  struct Step {
    std::string out;
    Action action = Action::none;
    std::string error;
  };

  explicit Session(SessionConfig config) : config_(std::move(config)) {}

  Step on_packet(const Packet& packet);

  // After Action::end_of_message: the message as received, ready for the chain.
  std::shared_ptr<pipeline::MessageContext> message() const { return message_; }
  // A fresh copy of that context as received, for when the chain's own copy
  // may still be written by filters that overran the budget.
  std::shared_ptr<pipeline::MessageContext> received_context() const;
  // Set when the message went over max_message_size: the reply refuses it without running the chain.
  bool too_big() const { return too_big_; }

  struct Finish {
    std::string out;      // modification requests and the final reply
    std::string summary;  // for logs and the trace: "accept", "accept +2 -1 headers, body", "reject 550 5.7.1 ..."
  };
  // The replies for a verdict. `final_ctx` is the context after the chain
  // (its message and pending edits are diffed against what was received);
  // nullptr sends no modifications (the chain did not finish in time).
  // Resets the message state for the next message on this connection.
  Finish finish(const pipeline::Verdict& verdict, const pipeline::MessageContext* final_ctx);

  const std::map<std::string, std::string>& macros() const { return macros_; }
  std::string macro(const std::string& name) const;
  const OptionNegotiation& negotiated() const { return agreed_; }
  bool negotiated_ok() const { return negotiated_; }
  std::size_t messages() const { return messages_; }

 private:
  Step negotiate(const Packet& p);
  Step continue_unless(std::uint32_t no_reply_flag) const;
  void reset_message();
  void reset_transaction();
  void reset_connection();
  std::string build_message() const;
  void fill_context(pipeline::MessageContext& ctx) const;
  std::string role() const;
  bool may(std::uint32_t action) const { return (agreed_.actions & action) != 0; }
  std::string final_reply(const pipeline::Verdict& v, std::string& summary) const;
  struct Changes {
    std::string out, summary, missing, why;
  };
  // Modification requests from the received message to ctx's final one;
  // false (with c.why) when the two cannot be compared.
  bool modifications(const pipeline::MessageContext& ctx, Changes& c) const;

  SessionConfig config_;
  bool negotiated_ = false;
  OptionNegotiation agreed_;
  std::map<std::string, std::string> macros_;
  std::vector<std::string> message_macros_;  // names set at MAIL or later: cleared per message
  ConnectInfo connect_;
  std::string helo_;
  std::vector<std::string> mail_args_;
  std::vector<std::vector<std::string>> rcpts_;
  std::string headers_;  // header section as received, CRLF line ends
  std::string body_;
  std::uint64_t size_ = 0;
  bool too_big_ = false;
  std::string received_;  // the message handed to the chain, kept for the diff
  std::shared_ptr<pipeline::MessageContext> message_;
  std::size_t messages_ = 0;
};

}  // namespace mailmoat::milter

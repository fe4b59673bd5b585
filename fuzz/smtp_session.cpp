// A whole client conversation: bytes split into lines the way the server's
// shell splits them, fed to the session state machine, with DATA and BDAT
// content fed to the content reader. Checks that every step answers.
#include <cstdint>
#include <string_view>

#include "smtp/protocol/session.h"

using namespace mailmoat::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  SessionConfig cfg;
  cfg.accepted_domains = {"example.test"};
  cfg.content.max_message_size = 4096;
  cfg.content.max_header_size = 1024;
  cfg.max_errors = 50;
  cfg.starttls_available = true;
  Session s(cfg);
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t lf = in.find('\n', pos);
    if (lf == std::string_view::npos) break;
    std::string_view line = in.substr(pos, lf - pos);
    pos = lf + 1;
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    Session::Step step = !crlf ? s.on_bare_line_ending() : line.size() + 2 > 512 ? s.on_line_too_long() : s.on_line(line);
    for (int depth = 0; depth < 4; ++depth) {
      if (step.action == Session::Action::close) return 0;
      if (step.action == Session::Action::read_data) {
        pos += s.content().consume(in.substr(pos));
        if (s.content().status() == ContentReader::Status::need_more) return 0;
        step = s.content_complete();
      } else if (step.action == Session::Action::read_bdat) {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(s.bdat_size(), in.size() - pos));
        s.content().consume(in.substr(pos, take));
        pos += take;
        step = s.chunk_received();
      } else if (step.action == Session::Action::end_of_message) {
        step = s.message_done(Reply(250, "2.0.0", "queued"));
      } else if (step.action == Session::Action::start_tls) {
        s.tls_started();
        break;
      } else {
        break;
      }
    }
  }
  return 0;
}

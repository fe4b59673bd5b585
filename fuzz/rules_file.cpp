// Fuzzes the rules loader; whatever loads is evaluated over a fixed message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/evaluator.h"
#include "policy/loader.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = policy::load_rules(text, "fuzz.toml");
  if (!loaded.rules) return 0;
  static const std::string message =
      "From: Boss <boss@example.com>\r\nTo: u@corp.example\r\nSubject: =?UTF-8?Q?Rechnung_f=C3=A4llig?=\r\n"
      "X-Mailer: Fuzz\r\n\r\nPlease pay the invoice #42 today.\r\n";
  policy::FactsInput in;
  in.message = message;
  in.envelope_sender = "boss@example.com";
  in.envelope_recipients = {"u@corp.example"};
  in.client_ip = "192.0.2.1";
  in.role = "inbound";
  in.internal_domains = {"corp.example"};
  auto facts = policy::build_facts(in);
  (void)policy::evaluate(*loaded.rules, facts, 1796083200);
  return 0;
}

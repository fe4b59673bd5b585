// Fuzzes the message-facts builder (header split, From, GMime decoding of
// subject and text parts, message types) and word/regex conditions over it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/evaluator.h"
#include "policy/loader.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const policy::RuleSet rules = [] {
    auto r = policy::load_rules(R"([[rule]]
name = "r"
priority = 1
conditions = [{ subject_or_body = { words = ["invoice"], regex = ['\d{4}'] } },
              { header = { regex = ['^x-.*: a'] } }, { message_type = ["signed", "bounce"] }]
actions = [{ quarantine = true }]
)",
                                "fuzz.toml");
    return std::move(*r.rules);
  }();
  std::string message(reinterpret_cast<const char*>(data), size);
  policy::FactsInput in;
  in.message = message;
  in.envelope_sender = "a@example.com";
  in.envelope_recipients = {"u@corp.example"};
  in.role = "inbound";
  in.body_limit = 4096;
  auto facts = policy::build_facts(in);
  (void)policy::evaluate(rules, facts, 0);
  return 0;
}

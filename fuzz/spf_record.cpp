// Fuzzes the SPF record parser, the macro checker and expansion, and a whole
// evaluation of the input as the record of a domain (bounded by the limits).
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/spf/macro.h"
#include "auth/spf/record.h"
#include "auth/spf/spf.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)auth::spf::parse_record(text);
  auth::spf::MacroContext ctx;
  ctx.sender = "user@example.com";
  ctx.local_part = "user";
  ctx.sender_domain = ctx.domain = "example.com";
  ctx.ip = *dns::IpAddress::parse("2001:db8::1");  // NOLINT(bugprone-unchecked-optional-access): a valid literal
  ctx.helo = "mail.example.com";
  for (auto use : {auth::spf::MacroUse::domain, auth::spf::MacroUse::explanation})
    if (auth::spf::check_macro_string(text, use)) (void)auth::spf::expand(text, ctx, use);
  dns::ZoneResolver zone;
  zone.add_txt("example.com", "v=spf1 " + text);
  zone.add_txt("example.com", text);
  zone.add_txt("a.example.com", text);
  (void)auth::spf::check_host(zone, auth::spf::mailfrom_request(ctx.ip, "user@example.com", "mail.example.com"));
  return 0;
}

// The admin API's transport-rules routes:
//   POST /api/v1/rules/reload  (admin) load rules.file again; a broken file answers
//        422 with every FILE:LINE error and the previous rules stay active
//   POST /api/v1/rules/test?ip=&helo=&mail_from=&rcpt=&role=&tls=  (viewer) the body is
//        a raw message; runs the active rules exactly as `mailmoat rules test --json`
#pragma once

#include "app/config.h"
#include "http/router.h"

namespace mailmoat::app {

class ApiAuth;
class RulesReloader;

void add_rules_routes(http::Router& router, RulesReloader& rules, const Config& cfg, const ApiAuth& auth);

}  // namespace mailmoat::app

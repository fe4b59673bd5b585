// Public entry points of the SPF module: request builders, the callback and
// synchronous check_host(), and the Received-SPF field of RFC 7208 §9.1.
#include "auth/spf/spf.h"

#include <cctype>
#include <optional>

namespace mailmoat::auth::spf {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::none: return "none";
    case Verdict::neutral: return "neutral";
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::softfail: return "softfail";
    case Verdict::temperror: return "temperror";
    case Verdict::permerror: return "permerror";
  }
  return "none";
}

std::string_view to_string(Identity i) { return i == Identity::helo ? "helo" : "mailfrom"; }

Request helo_request(const dns::IpAddress& ip, std::string_view helo) {
  Request r;
  r.ip = ip;
  r.domain = std::string(helo);
  r.sender = "postmaster@" + std::string(helo);
  r.helo = std::string(helo);
  r.identity = Identity::helo;
  return r;
}

Request mailfrom_request(const dns::IpAddress& ip, std::string_view mail_from, std::string_view helo) {
  if (mail_from.empty()) return helo_request(ip, helo);
  Request r;
  r.ip = ip;
  std::size_t at = mail_from.rfind('@');
  r.domain = std::string(at == std::string_view::npos ? mail_from : mail_from.substr(at + 1));
  r.sender = at == 0 ? "postmaster" + std::string(mail_from) : std::string(mail_from);
  r.helo = std::string(helo);
  return r;
}

void check_host(dns::Resolver& resolver, Request request, Options options,
                std::move_only_function<void(SpfResult)> done) {
  dns::start(check_host_task(resolver, std::move(request), std::move(options)),
             [done = std::move(done)](SpfResult r) mutable { done(std::move(r)); });
}

SpfResult check_host(dns::ZoneResolver& resolver, Request request, Options options) {
  std::optional<SpfResult> out;
  check_host(static_cast<dns::Resolver&>(resolver), std::move(request), std::move(options),
             [&out](SpfResult r) { out = std::move(r); });
  return std::move(*out);  // the zone resolver answers inside resolve()
}

namespace {

// key=value values must be dot-atoms, else quoted strings (RFC 7208 §9.1).
std::string value_text(std::string_view v) {
  bool atom = !v.empty() && v.front() != '.' && v.back() != '.' && v.find("..") == std::string_view::npos;
  for (unsigned char c : v)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) != std::string_view::npos))
      atom = false;
  if (atom) return std::string(v);
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    if (c != '\r' && c != '\n') q += c;
  }
  return q + "\"";
}

std::string comment_for(const SpfResult& r, std::string_view receiver) {
  const std::string who = r.request.identity == Identity::helo ? "domain " + r.request.domain
                                                               : "domain of " + r.request.sender;
  std::string ip = r.request.ip.to_string();
  std::string what;
  switch (r.verdict) {
    case Verdict::pass: what = who + " designates " + ip + " as permitted sender"; break;
    case Verdict::fail: what = who + " does not designate " + ip + " as permitted sender"; break;
    case Verdict::softfail: what = "transitioning " + who + " does not designate " + ip + " as permitted sender"; break;
    case Verdict::neutral: what = ip + " is neither permitted nor denied by " + who; break;
    case Verdict::none: what = who + " does not publish SPF"; break;
    case Verdict::temperror: what = "temporary error evaluating " + who + ": " + r.problem; break;
    case Verdict::permerror: what = "permanent error in SPF of " + who + ": " + r.problem; break;
  }
  std::string out;
  for (char c : std::string(receiver) + ": " + what)
    if (c != '(' && c != ')' && c != '\\' && c != '\r' && c != '\n') out += c;
  return "(" + out + ")";
}

}  // namespace

std::string received_spf_field(const SpfResult& r, std::string_view receiver) {
  std::vector<std::string> parts;
  parts.push_back(std::string(to_string(r.verdict)));
  parts.push_back(comment_for(r, receiver.empty() ? "unknown" : receiver));
  parts.push_back("client-ip=" + r.request.ip.to_string() + ";");
  if (r.request.identity == Identity::mailfrom)
    parts.push_back("envelope-from=" + value_text(r.request.sender) + ";");
  if (!r.request.helo.empty()) parts.push_back("helo=" + value_text(r.request.helo) + ";");
  if (!receiver.empty()) parts.push_back("receiver=" + value_text(receiver) + ";");
  if (!r.mechanism.empty()) parts.push_back("mechanism=" + value_text(r.mechanism) + ";");
  if (r.verdict == Verdict::permerror && !r.problem.empty())
    parts.push_back("problem=" + value_text(r.problem) + ";");
  parts.push_back("identity=" + std::string(to_string(r.request.identity)) + ";");
  // Fold between words (comments and quoted strings allow FWS) at 78 columns.
  std::vector<std::string> words;
  for (const auto& p : parts) {
    std::size_t start = 0;
    for (std::size_t sp; (sp = p.find(' ', start)) != std::string::npos; start = sp + 1)
      words.push_back(p.substr(start, sp - start));
    words.push_back(p.substr(start));
  }
  std::string out = "Received-SPF:";
  std::size_t line = out.size();
  for (const auto& p : words) {
    if (line + 1 + p.size() > 78 && line > 1) {
      out += "\r\n\t";
      line = 1;
    } else {
      out += ' ';
      ++line;
    }
    out += p;
    line += p.size();
  }
  return out;
}

}  // namespace mailmoat::auth::spf

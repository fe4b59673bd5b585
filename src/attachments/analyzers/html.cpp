// HTML attachment analyzer. An HTML file attached to mail is opened locally
// by the browser, so three patterns matter: smuggling (script builds a Blob or
// data URI and triggers a download, bypassing gateway scanning of the
// payload), credential forms that post to a web host, and redirects away from
// the file (meta refresh, location assignments). Searches run over a
// lower-cased copy; no regular expressions (linear time on hostile input).
#include <algorithm>
#include <cctype>

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/text_search.h"

namespace mailmoat::attachments {
namespace {

bool has(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

// Host of the first http(s) URL in `s` after `from`, "" when none.
std::string host_after(const std::string& s, std::size_t from) {
  std::size_t at = s.find("http", from);
  if (at == std::string::npos) return {};
  std::size_t colon = s.find("://", at);
  if (colon == std::string::npos || colon > at + 5) return {};
  std::size_t start = colon + 3, end = start;
  while (end < s.size() && end - start < 255 && s[end] != '/' && s[end] != '"' && s[end] != '\'' && s[end] != '>' &&
         s[end] != ' ' && s[end] != '?' && s[end] != ';')
    ++end;
  return s.substr(start, end - start);
}

void check_forms(const std::string& low, Analysis& out) {
  for (std::size_t at = low.find("<form"); at != std::string::npos; at = low.find("<form", at + 5)) {
    std::size_t end = low.find("</form", at);
    std::string form = low.substr(at, end == std::string::npos ? std::string::npos : end - at);
    bool password = has(form, "type=\"password\"") || has(form, "type='password'") || has(form, "type=password");
    std::size_t action = form.find("action=");
    std::string host = action == std::string::npos ? "" : host_after(form, action);
    if (password && !host.empty()) {
      out.flag(Verdict::malicious, "html: credential form posting to " + host);
      return;
    }
  }
}

}  // namespace

void analyze_html(std::string_view content, Analysis& out) {
  out.ran("html");
  std::string low = to_lower_ascii(content.substr(0, 16 << 20));
  bool builds_payload = has(low, "new blob") || has(low, "data:application/") || has(low, "atob(") ||
                        has(low, "uint8array") || has(low, "fromcharcode");
  bool triggers_download = has(low, ".download") || has(low, "download=") || has(low, "mssaveoropenblob") ||
                           has(low, "mssaveblob") || has(low, "createobjecturl");
  if (builds_payload && triggers_download) out.flag(Verdict::malicious, "html: smuggling (script-built download)");
  check_forms(low, out);
  std::size_t refresh = low.find("http-equiv=\"refresh\"");
  if (refresh == std::string::npos) refresh = low.find("http-equiv=refresh");
  if (refresh != std::string::npos) {
    std::string host = host_after(low, refresh);
    out.flag(Verdict::suspicious, "html: meta refresh redirect" + (host.empty() ? "" : " to " + host));
  }
  if (has(low, "window.location") || has(low, "location.href") || has(low, "location.replace(") ||
      has(low, "location.assign(") || has(low, "document.location"))
    out.flag(Verdict::suspicious, "html: script redirect");
}

std::vector<std::string> passwords_in_text(std::string_view text, std::size_t max) {
  std::vector<std::string> out;
  std::string low = to_lower_ascii(text.substr(0, 1 << 20));
  static constexpr std::string_view kKeys[] = {"password", "passwort", "mot de passe", "contraseña", "pwd", "pass", "code"};
  for (auto key : kKeys) {
    for (std::size_t at = low.find(key); at != std::string::npos && out.size() < max; at = low.find(key, at + 1)) {
      std::size_t i = at + key.size();
      // Skip "is", ":", "=" and quotes between the word and the password.
      auto skip = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == ':' || text[i] == '=' || text[i] == '\t' ||
                                   text[i] == '"' || text[i] == '\'' || text[i] == '*'))
          ++i;
      };
      skip();
      if (low.compare(i, 2, "is") == 0 && i + 2 < low.size() && (low[i + 2] == ' ' || low[i + 2] == ':')) i += 2;
      skip();
      std::size_t start = i;
      while (i < text.size() && i - start < 64 && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '"' &&
             text[i] != '\'' && text[i] != '<')
        ++i;
      std::string candidate(text.substr(start, i - start));
      while (!candidate.empty() && (candidate.back() == '.' || candidate.back() == ',' || candidate.back() == '*'))
        candidate.pop_back();
      if (!candidate.empty() && std::find(out.begin(), out.end(), candidate) == out.end()) out.push_back(candidate);
    }
  }
  return out;
}

}  // namespace mailmoat::attachments

#include "http/warning_page.h"

namespace mailmoat::http {

namespace {

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;background:#f4f4f4;color:#222;margin:0}"
    "main{max-width:40em;margin:3em auto;background:#fff;padding:2em;border-radius:6px;"
    "border-top:6px solid #b00020}"
    "h1{font-size:1.5em;margin-top:0}.dest{font-family:monospace;word-break:break-all;background:#f8f0f0;"
    "padding:.6em;border:1px solid #e0c0c0}.org{color:#555;font-size:.9em}"
    "a.continue{color:#555;font-size:.9em}";

Response page(int status, const std::string& title, const std::string& body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width\"><meta name=\"robots\" content=\"noindex\">"
           "<title>" + html_escape(title) + "</title><style>" + kStyle + "</style></head><body><main>" + body +
           "</main></body></html>\n";
  r.headers = {{"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'"},
               {"Cache-Control", "no-store"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"}};
  return r;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Response warning_page(const WarningPage& p) {
  bool malicious = p.rating == "malicious";
  std::string title = malicious ? "This website is classified as malicious" : "This website may not be safe";
  std::string body;
  if (!p.organization.empty()) body += "<p class=\"org\">" + html_escape(p.organization) + " Safe Links</p>";
  body += "<h1>" + html_escape(title) + "</h1>";
  body += "<p>You followed a link to:</p><p class=\"dest\" id=\"destination\">" + html_escape(p.destination) + "</p>";
  body += "<p>Why this warning:</p><ul id=\"reasons\">";
  for (const auto& r : p.reasons) body += "<li>" + html_escape(r) + "</li>";
  body += "</ul>";
  if (!p.notice.empty()) body += "<p id=\"notice\">" + html_escape(p.notice) + "</p>";
  body += "<p>We recommend that you do not open this website.</p>";
  if (!p.continue_url.empty())
    body += "<p><a class=\"continue\" id=\"continue\" rel=\"noreferrer\" href=\"" + html_escape(p.continue_url) +
            "\">Continue anyway (not recommended)</a></p>";
  return page(200, title, body);
}

Response message_page(int status, const std::string& title, const std::string& text) {
  return page(status, title, "<h1>" + html_escape(title) + "</h1><p>" + html_escape(text) + "</p>");
}

}  // namespace mailmoat::http

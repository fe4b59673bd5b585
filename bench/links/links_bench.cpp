// Safe Links rewriting throughput: whole messages through rewrite_message()
// (MIME walk, quoted-printable decode/encode, the HTML scanner, signing every link with
// HMAC-SHA256), on newsletter-shaped HTML. Reported as bytes/s and messages/s
// per core (one thread); bench/links/run puts the figure beside the click
// service's and nginx's in one report.
#include <benchmark/benchmark.h>

#include <string>

#include "links/mime_rewrite.h"
#include "links/token.h"

namespace {

using namespace mailmoat::links;

// A newsletter: multipart/alternative, a text part and an HTML part (quoted-printable
// or 8bit) with `stories` stories, each with a linked headline, an image and a paragraph.
std::string newsletter(int stories, bool qp) {
  std::string text, html = "<!DOCTYPE html><html><head><style>td{font-family:Arial}</style></head><body><table>";
  for (int i = 0; i < stories; ++i) {
    std::string url = "https://news.example.com/2026/11/story-" + std::to_string(i) + "?utm_source=mail&utm_medium=email";
    text += "Story " + std::to_string(i) + ": " + url + "\r\n";
    html += "<tr><td><img src=\"https://cdn.example.com/i/" + std::to_string(i) +
            ".jpg\" width=\"560\" alt=\"\"><h2><a href=\"" + url + "\" style=\"color:#036;text-decoration:none\">"
            "Headline number " + std::to_string(i) + "</a></h2><p>Lorem ipsum dolor sit amet, consectetur adipiscing "
            "elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis "
            "nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p></td></tr>\r\n";
  }
  html += "</table><p><a href=\"https://news.example.com/unsubscribe?u=123\">Unsubscribe</a></p></body></html>\r\n";
  std::string cte = qp ? "quoted-printable" : "8bit";
  // Quoted-printable as a sender would write it: '=' escaped, lines soft-broken at 76.
  auto encode = [&](const std::string& s) {
    if (!qp) return s;
    std::string out, line;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        out += line + "\r\n";
        line.clear();
        ++i;
        continue;
      }
      std::string piece = s[i] == '=' ? "=3D" : std::string(1, s[i]);
      if (line.size() + piece.size() > 75) {
        out += line + "=\r\n";
        line.clear();
      }
      line += piece;
    }
    return out + line;
  };
  return "From: News <news@example.com>\r\nTo: sue@example.org\r\nSubject: This week\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: " + cte + "\r\n\r\n" + encode(text) + "\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Transfer-Encoding: " + cte + "\r\n\r\n" + encode(html) + "\r\n--b--\r\n";
}

void rewrite(benchmark::State& state, bool qp) {
  static const LinkSigner signer = *LinkSigner::create("https://links.example.org", {"bench-key-0123456789abcdef"});
  std::string message = newsletter(static_cast<int>(state.range(0)), qp);
  LinkFields fields{"", "Q1", "sue@example.org", ""};
  std::size_t links = 0;
  for (auto _ : state) {
    auto out = rewrite_message(message, {}, [&](const std::string& url) -> std::optional<std::string> {
      fields.url = url;
      return signer.wrap(fields);
    });
    links = out.rewritten;
    benchmark::DoNotOptimize(out.body);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * message.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["message_bytes"] = static_cast<double>(message.size());
  state.counters["links"] = static_cast<double>(links);
}

void BM_RewriteNewsletterQuotedPrintable(benchmark::State& s) { rewrite(s, true); }
void BM_RewriteNewsletter8bit(benchmark::State& s) { rewrite(s, false); }
BENCHMARK(BM_RewriteNewsletterQuotedPrintable)->Arg(10)->Arg(40);
BENCHMARK(BM_RewriteNewsletter8bit)->Arg(10)->Arg(40);

}  // namespace

BENCHMARK_MAIN();

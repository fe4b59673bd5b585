#include "filters/rules/disclaimer.h"

#include <functional>

#include "links/gmime_adaptor.h"
#include "links/mime_walk.h"
#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::filters {

namespace {

// The part's own line break, so the inserted lines match the lines around them.
std::string line_break_of(std::string_view decoded) {
  if (decoded.find("\r\n") != std::string_view::npos) return "\r\n";
  return decoded.find('\n') != std::string_view::npos ? "\n" : "\r\n";
}

std::string with_line_breaks(std::string_view text, const std::string& eol) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += eol;
    else out += c;
  }
  return out;
}

std::string escape_html(std::string_view text, const std::string& eol) {
  std::string out = "<p>";
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "<br>" + eol; break;
      default: out += c;
    }
  }
  return out + "</p>";
}

// Position of `<tag` (case-insensitive) followed by '>', '/' or white space; npos when absent.
std::size_t find_tag(std::string_view html, std::string_view tag, bool last) {
  std::size_t found = std::string_view::npos;
  for (std::size_t at = 0; at + tag.size() <= html.size(); ++at) {
    if (!util::iequals(html.substr(at, tag.size()), tag)) continue;
    char next = at + tag.size() < html.size() ? html[at + tag.size()] : '>';
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\r' && next != '\n') continue;
    found = at;
    if (!last) break;
  }
  return found;
}

std::string insert_html(std::string_view html, const std::string& fragment, bool prepend, const std::string& eol) {
  std::string out(html);
  if (prepend) {
    std::size_t body = find_tag(html, "<body", false);
    std::size_t close = body == std::string_view::npos ? std::string_view::npos : html.find('>', body);
    if (close == std::string_view::npos) return fragment + eol + out;
    return out.insert(close + 1, eol + fragment + eol);
  }
  std::size_t end = find_tag(html, "</body", true);
  if (end == std::string_view::npos) end = find_tag(html, "</html", true);
  if (end == std::string_view::npos) return out + eol + fragment + eol;
  return out.insert(end, fragment + eol);
}

std::string insert_text(std::string_view text, const std::string& disclaimer, bool prepend, const std::string& eol) {
  if (prepend) return disclaimer + eol + eol + std::string(text);
  // A part without a final line break (the CRLF before a boundary is the boundary's) keeps none.
  std::string out(text);
  const bool final_break = !out.empty() && out.back() == '\n';
  if (!out.empty() && !final_break) out += eol;
  return out + eol + disclaimer + (final_break || out.empty() ? eol : "");
}

struct DisclaimerEditor {
  const pipeline::DisclaimerRequest& request;

  links::PartChange operator()(const links::TextPartView& part) const {
    const std::string charset = part.type.charset.empty() ? "us-ascii" : part.type.charset;
    if (!links::ascii_transparent(part.type.charset))
      return {std::nullopt, "charset " + charset + " is not scanned for insertion (multibyte text); disclaimer not inserted", {}, {}};
    // Inline PGP (RFC 4880 7): text around the armour would read as if it were signed, or be mixed into ciphertext.
    if (part.decoded.find("-----BEGIN PGP SIGNED MESSAGE-----") != std::string_view::npos ||
        part.decoded.find("-----BEGIN PGP MESSAGE-----") != std::string_view::npos)
      return {std::nullopt, "inline PGP signed or encrypted text; never modified", {}, {}};
    const std::string eol = line_break_of(part.decoded);
    const bool html = part.type.subtype == "html";
    std::string utf8 = html ? (request.html.empty() ? escape_html(request.text, eol) : with_line_breaks(request.html, eol))
                            : with_line_breaks(request.text, eol);
    auto insert = [&](const std::string& text) {
      return html ? insert_html(part.decoded, text, request.prepend, eol)
                  : insert_text(part.decoded, text, request.prepend, eol);
    };
    links::PartChange change;
    const bool ascii_part = charset == "us-ascii" || charset == "ascii";
    if (ascii_part && util::has_8bit(utf8) && !util::has_8bit(part.decoded)) {
      // US-ASCII is a subset of UTF-8: the part is re-declared as UTF-8, and a 7bit
      // part becomes quoted-printable (RFC 2045 6.7), rather than refusing the message.
      change.text = insert(utf8);
      change.charset = "utf-8";
      if (!part.eight_bit) change.encoding = links::gmime::TransferEncoding::quoted_printable;
      return change;
    }
    std::optional<std::string> converted = utf8;
    if (charset != "utf-8" && charset != "utf8") converted = links::gmime::from_utf8(utf8, charset);
    if (!converted) return {std::nullopt, "the disclaimer cannot be written in charset " + charset, {}, {}};
    if (util::has_8bit(*converted) && !part.eight_bit) {
      // 7bit text in an 8-bit charset (plain-ASCII Latin-1 mail): quoted-printable keeps it 7bit.
      change.encoding = links::gmime::TransferEncoding::quoted_printable;
    }
    change.text = insert(*converted);
    return change;
  }
};

}  // namespace

DisclaimerResult add_disclaimer(std::string_view message, const pipeline::DisclaimerRequest& request) {
  DisclaimerResult result;
  DisclaimerEditor editor{request};
  links::WalkOptions options;
  options.enter_attached_messages = false;  // a forwarded message stays as its sender wrote it
  links::WalkOutcome walked = links::edit_text_parts(message, options, std::cref(editor));
  result.notes = std::move(walked.notes);
  result.parts = walked.changed;
  if (walked.refused > 0) {
    result.refused = result.notes.empty() ? "a part cannot be changed" : result.notes.front();
  } else if (walked.changed == 0) {
    result.refused = "the message has no text part to carry a disclaimer";
  } else {
    result.body = std::move(walked.body);
    result.headers = std::move(walked.message_headers);
  }
  return result;
}

std::string wrap_with_disclaimer(std::string_view message, const std::string& text, std::string& boundary) {
  // A boundary that occurs nowhere in the message (RFC 2046 5.1.1).
  std::size_t seed = std::hash<std::string_view>{}(message);
  for (int i = 0;; ++i) {
    boundary = "=_mailmoat_disclaimer_" + std::to_string(seed + i);
    if (message.find(boundary) == std::string_view::npos) break;
  }
  std::string crlf_text = with_line_breaks(text, "\r\n");
  bool eight = util::has_8bit(crlf_text);
  std::string encoded = eight ? links::gmime::encode(crlf_text + "\r\n", links::gmime::TransferEncoding::quoted_printable)
                              : crlf_text + "\r\n";
  std::string body = "This is a multi-part message in MIME format.\r\n\r\n--" + boundary + "\r\n";
  body += "Content-Type: text/plain; charset=utf-8\r\n";
  body += std::string("Content-Transfer-Encoding: ") + (eight ? "quoted-printable" : "7bit") + "\r\n\r\n";
  body += encoded;
  body += "\r\n--" + boundary + "\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n";
  body.append(message);
  if (!body.ends_with("\r\n")) body += "\r\n";
  body += "\r\n--" + boundary + "--\r\n";
  return body;
}

void DisclaimerFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  if (!ctx.disclaimer) return done(pipeline::Verdict::accept());
  const pipeline::DisclaimerRequest& request = *ctx.disclaimer;
  // Change what the next hop will get: the message with the edits queued so far (Safe Links' included).
  std::string current = ctx.message;
  pipeline::apply_edits(current, ctx.edits);
  DisclaimerResult r = add_disclaimer(current, request);
  const std::string by = "rule '" + request.rule + "'";
  if (r.body) {
    ctx.message = std::move(current);
    ctx.edits.headers.clear();
    ctx.edits.body = std::move(*r.body);
    if (!r.headers.empty()) ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::replace, "MIME-Version", "1.0"});
    for (auto& [name, value] : r.headers)
      ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::replace, std::move(name), std::move(value)});
    ctx.notes.push_back({"disclaimer", "disclaimer_added",
                         by + ": added to " + std::to_string(r.parts) + " text part(s)" +
                             (request.prepend ? " at the start" : " at the end")});
    return done(pipeline::Verdict::accept());
  }
  for (const auto& n : r.notes) ctx.notes.push_back({"disclaimer", "disclaimer_part", n});
  if (request.fallback == "reject") {
    pipeline::Verdict v;
    v.disposition = pipeline::Disposition::reject;
    v.code = 550;
    v.enhanced = "5.7.1";
    v.text = "Message cannot carry the disclaimer required by policy: " + r.refused;
    v.filter = "disclaimer";
    v.reason = by + ": disclaimer cannot be added (" + r.refused + "); fallback reject";
    return done(std::move(v));
  }
  if (request.fallback == "ignore") {
    ctx.notes.push_back({"disclaimer", "disclaimer_not_added", by + ": " + r.refused + "; fallback ignore: message left unchanged"});
    return done(pipeline::Verdict::accept());
  }
  std::string boundary;
  std::string body = wrap_with_disclaimer(current, request.text, boundary);
  ctx.message = std::move(current);
  ctx.edits.headers.clear();
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::replace, "MIME-Version", "1.0"});
  ctx.edits.headers.push_back(
      {pipeline::HeaderEdit::Op::replace, "Content-Type", "multipart/mixed; boundary=\"" + boundary + "\""});
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::remove, "Content-Transfer-Encoding", {}});
  ctx.edits.body = std::move(body);
  ctx.notes.push_back({"disclaimer", "disclaimer_wrapped",
                       by + ": " + r.refused + "; fallback wrap: the message is attached behind the disclaimer"});
  done(pipeline::Verdict::accept());
}

}  // namespace mailmoat::filters

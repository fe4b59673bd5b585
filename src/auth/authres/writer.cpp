// RFC 8601 §2.2 writer. Values that are not RFC 2045 tokens are quoted; a
// pvalue of the form local-part@domain is written as is (the ABNF allows it).
#include <cctype>

#include "auth/authres/authres.h"

namespace mailmoat::auth::authres {
namespace {

bool is_token_char(unsigned char c) {
  return c > 32 && c < 127 && std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
}

bool is_token(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char c : v)
    if (!is_token_char(c)) return false;
  return true;
}

std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\r' || c == '\n') continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string value_text(std::string_view v) { return is_token(v) ? std::string(v) : quoted(v); }

std::string pvalue_text(std::string_view v) {
  std::size_t at = v.rfind('@');
  if (at != std::string_view::npos && (at == 0 || is_token(v.substr(0, at))) && is_token(v.substr(at + 1)))
    return std::string(v);
  return value_text(v);
}

std::string comment_text(std::string_view c) {
  std::string out = "(";
  for (char ch : c) {
    if (ch == '\r' || ch == '\n') continue;
    if (ch == '(' || ch == ')' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + ")";
}

// Appends words, folding before a word that would pass column 78.
class Folder {
 public:
  explicit Folder(std::string start) : out_(std::move(start)), column_(out_.size()) {}
  void word(const std::string& w, bool new_line = false) {
    if (new_line || (column_ + 1 + w.size() > 78 && column_ > 1)) {
      out_ += "\r\n\t";
      column_ = 1;
    } else {
      out_ += ' ';
      ++column_;
    }
    out_ += w;
    column_ += w.size();
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::size_t column_;
};

}  // namespace

std::string write(const AuthenticationResults& ar) {
  Folder f("Authentication-Results:");
  std::string id = value_text(ar.authserv_id);
  if (ar.version) id += " " + std::to_string(*ar.version);
  f.word(id + ";");
  if (ar.results.empty()) {
    f.word("none");
    return f.take();
  }
  for (std::size_t i = 0; i < ar.results.size(); ++i) {
    const auto& m = ar.results[i];
    std::vector<std::string> words;
    std::string head = m.method + (m.version ? "/" + std::to_string(*m.version) : "") + "=" + m.result;
    words.push_back(head);
    if (!m.comment.empty()) {
      // A comment may be folded between its words.
      std::string c = comment_text(m.comment);
      std::size_t start = 0;
      for (std::size_t sp; (sp = c.find(' ', start)) != std::string::npos; start = sp + 1) words.push_back(c.substr(start, sp - start));
      words.push_back(c.substr(start));
    }
    if (!m.reason.empty()) words.push_back("reason=" + quoted(m.reason));
    // A property without ptype is a bare key=value (EOP's action=), read back the same way.
    for (const auto& p : m.properties)
      words.push_back((p.ptype.empty() ? "" : p.ptype + ".") + p.name + "=" + pvalue_text(p.value));
    if (i + 1 < ar.results.size()) words.back() += ";";
    for (std::size_t w = 0; w < words.size(); ++w) f.word(words[w], w == 0);
  }
  return f.take();
}

const Property* MethodResult::property(std::string_view ptype, std::string_view name) const {
  for (const auto& p : properties)
    if (p.ptype == ptype && p.name == name) return &p;
  return nullptr;
}

}  // namespace mailmoat::auth::authres

#include "attachments/facts.h"

#include <algorithm>

namespace mailmoat::attachments {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::clean: return "clean";
    case Verdict::suspicious: return "suspicious";
    case Verdict::malicious: return "malicious";
    case Verdict::scan_error: return "scan error";
  }
  return "scan error";
}

Verdict verdict_from_string(std::string_view s) {
  if (s == "clean") return Verdict::clean;
  if (s == "suspicious") return Verdict::suspicious;
  if (s == "malicious") return Verdict::malicious;
  return Verdict::scan_error;
}

void Analysis::flag(Verdict v, std::string reason) {
  // scan_error ranks above malicious in the enum only for "worst of"; a real
  // finding of malice must not be hidden by a later error, so keep malicious.
  if (verdict == Verdict::malicious && v == Verdict::scan_error) {
  } else if (static_cast<int>(v) > static_cast<int>(verdict)) {
    verdict = v;
    primary = reason;
  }
  if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(std::move(reason));
}

void Analysis::ran(std::string_view analyzer) {
  if (std::find(analyzers.begin(), analyzers.end(), analyzer) == analyzers.end()) analyzers.emplace_back(analyzer);
}

void Analysis::merge(const Analysis& other) {
  if (other.verdict != Verdict::clean)
    flag(other.verdict, other.primary.empty() ? std::string(to_string(other.verdict)) : other.primary);
  for (const auto& r : other.reasons) flag(Verdict::clean, r);
  for (const auto& a : other.analyzers) ran(a);
  password_protected = password_protected || other.password_protected;
  scan_incomplete = scan_incomplete || other.scan_incomplete;
  add_text(other.text);
}

void Analysis::add_text(std::string_view piece) {
  if (piece.empty() || text.size() >= kMaxText) return;
  if (!text.empty()) text += '\n';
  text.append(piece.substr(0, kMaxText - std::min(text.size(), kMaxText)));
  if (text.size() > kMaxText) text.resize(kMaxText);
}

}  // namespace mailmoat::attachments

#include "milter/modifications.h"

#include <algorithm>

#include "mail/message.h"
#include "milter/protocol.h"
#include "util/strings.h"

namespace mailmoat::milter {

namespace {

// A field value as the MTA wants it: folds as LF (Postfix and Sendmail keep
// LF internally and add CR on output), leading white space per negotiation.
std::string wire_value(std::string_view value, bool leading_space) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
    out += value[i];
  }
  if (!leading_space) {
    std::size_t start = out.find_first_not_of(" \t");
    out.erase(0, start == std::string::npos ? out.size() : start);
  }
  return out;
}

// Longest common subsequence of two field lists (by exact bytes), as a
// keep-flag per field of each side. Common prefix and suffix are matched
// first, so the usual edit (fields added at the top) costs almost nothing.
void match_fields(const std::vector<mail::HeaderField>& a, const std::vector<mail::HeaderField>& b,
                  std::vector<bool>& keep_a, std::vector<bool>& keep_b) {
  keep_a.assign(a.size(), false);
  keep_b.assign(b.size(), false);
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre].raw == b[pre].raw) keep_a[pre] = keep_b[pre] = true, ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf].raw == b[b.size() - 1 - suf].raw) {
    keep_a[a.size() - 1 - suf] = keep_b[b.size() - 1 - suf] = true;
    ++suf;
  }
  const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  if (n == 0 || m == 0) return;
  std::vector<std::vector<std::uint32_t>> len(n + 1, std::vector<std::uint32_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      len[i][j] = a[pre + i].raw == b[pre + j].raw ? len[i + 1][j + 1] + 1 : std::max(len[i + 1][j], len[i][j + 1]);
  for (std::size_t i = 0, j = 0; i < n && j < m;) {
    if (a[pre + i].raw == b[pre + j].raw) {
      keep_a[pre + i] = keep_b[pre + j] = true;
      ++i, ++j;
    } else if (len[i + 1][j] >= len[i][j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
}

}  // namespace

std::optional<HeaderChanges> diff_messages(std::string_view received, std::string_view final, bool leading_space,
                                           std::string& why) {
  mail::Limits limits;
  limits.max_header_bytes = std::size_t{64} * 1024 * 1024;
  limits.max_fields = 100000;
  auto before = mail::Message::parse(received, limits);
  auto after = before ? mail::Message::parse(final, limits) : before;
  if (!before || !after) {
    why = "cannot split the header section: " + (before ? after.error().message : before.error().message);
    return std::nullopt;
  }
  const auto& a = before->fields();
  const auto& b = after->fields();
  if (a.size() > 5000 || b.size() > 5000) {
    why = "too many header fields to compare";
    return std::nullopt;
  }
  std::vector<bool> keep_a, keep_b;
  match_fields(a, b, keep_a, keep_b);
  HeaderChanges out;
  // Deletions bottom-up: a field's per-name index counts the fields above it,
  // which are still all there when it goes.
  for (std::size_t i = a.size(); i-- > 0;) {
    if (keep_a[i]) continue;
    std::uint32_t index = 1;
    for (std::size_t k = 0; k < i; ++k) index += util::iequals(a[k].name, a[i].name) ? 1 : 0;
    out.packets.push_back(encode_change_header(index, a[i].name, ""));
    ++out.removed;
  }
  // Insertions top-down: every field above position j is already in place.
  std::size_t present = std::count(keep_a.begin(), keep_a.end(), true);
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (keep_b[j]) continue;
    std::string value = wire_value(b[j].value, leading_space);
    if (j >= present)
      out.packets.push_back(encode_add_header(b[j].name, value));
    else
      out.packets.push_back(encode_insert_header(static_cast<std::uint32_t>(j), b[j].name, value));
    ++present;
    ++out.inserted;
  }
  if (before->body() != after->body()) {
    for (auto& p : encode_replace_body(after->body())) out.packets.push_back(std::move(p));
    out.body_replaced = true;
  }
  return out;
}

}  // namespace mailmoat::milter

#include "filters/attachments/policy.h"

#include <algorithm>

namespace mailmoat::filters {

std::string_view to_string(AttachmentAction a) {
  switch (a) {
    case AttachmentAction::off: return "off";
    case AttachmentAction::monitor: return "monitor";
    case AttachmentAction::block: return "block";
    case AttachmentAction::replace: return "replace";
    case AttachmentAction::dynamic_delivery: return "dynamic_delivery";
  }
  return "off";
}

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool matches(const AttachmentPolicy& p, const std::string& address) {
  std::string a = lower(address);
  std::string domain = a.substr(a.rfind('@') == std::string::npos ? a.size() : a.rfind('@') + 1);
  for (const auto& r : p.recipients)
    if (r == a) return true;
  for (const auto& d : p.recipient_domains)
    if (d == "*" || d == domain) return true;
  return false;
}
}  // namespace

const AttachmentPolicy* select_policy(const std::vector<AttachmentPolicy>& policies,
                                      const pipeline::Envelope& envelope) {
  const AttachmentPolicy* best = nullptr;
  for (const auto& p : policies)
    for (const auto& r : envelope.recipients)
      if (matches(p, r.address) && (!best || p.priority < best->priority)) best = &p;
  return best;
}

}  // namespace mailmoat::filters

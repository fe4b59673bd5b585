#include "auth/dmarc/report.h"

#include <cctype>

#include "util/strings.h"

namespace mailmoat::auth::dmarc {

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0; they never belong in these fields.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

void element(std::string& out, int depth, std::string_view name, std::string_view value) {
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += "<" + std::string(name) + ">" + xml_escape(value) + "</" + std::string(name) + ">\n";
}

const char* alignment(Alignment a) { return a == Alignment::strict ? "s" : "r"; }

std::string policy_word(Policy p) { return std::string(to_string(p)); }

void append_row(std::string& out, const ReportRow& r) {
  out += "  <record>\n    <row>\n";
  element(out, 3, "source_ip", r.source_ip);
  element(out, 3, "count", std::to_string(r.count));
  out += "      <policy_evaluated>\n";
  element(out, 4, "disposition", r.disposition);
  element(out, 4, "dkim", r.dmarc_dkim);
  element(out, 4, "spf", r.dmarc_spf);
  out += "      </policy_evaluated>\n    </row>\n    <identifiers>\n";
  if (!r.envelope_from.empty()) element(out, 3, "envelope_from", r.envelope_from);
  element(out, 3, "header_from", r.header_from);
  out += "    </identifiers>\n    <auth_results>\n";
  if (!r.dkim_domain.empty()) {
    out += "      <dkim>\n";
    element(out, 4, "domain", r.dkim_domain);
    if (!r.dkim_selector.empty()) element(out, 4, "selector", r.dkim_selector);
    element(out, 4, "result", r.dkim_result);
    out += "      </dkim>\n";
  }
  out += "      <spf>\n";
  element(out, 4, "domain", r.spf_domain.empty() ? r.envelope_from : r.spf_domain);
  element(out, 4, "scope", "mfrom");
  element(out, 4, "result", r.spf_result.empty() ? "none" : r.spf_result);
  out += "      </spf>\n    </auth_results>\n  </record>\n";
}

}  // namespace

std::string aggregate_report_xml(const ReportMetadata& meta, std::string_view policy_domain, const Record& published,
                                 const std::vector<ReportRow>& rows) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n";
  element(out, 1, "version", "1.0");
  out += "  <report_metadata>\n";
  element(out, 2, "org_name", meta.org_name);
  element(out, 2, "email", meta.email);
  if (!meta.contact.empty()) element(out, 2, "extra_contact_info", meta.contact);
  element(out, 2, "report_id", meta.report_id);
  out += "    <date_range>\n";
  element(out, 3, "begin", std::to_string(meta.begin));
  element(out, 3, "end", std::to_string(meta.end));
  out += "    </date_range>\n  </report_metadata>\n  <policy_published>\n";
  element(out, 2, "domain", policy_domain);
  element(out, 2, "p", policy_word(published.p));
  element(out, 2, "sp", policy_word(published.sp.value_or(published.p)));
  if (published.np) element(out, 2, "np", policy_word(*published.np));
  element(out, 2, "adkim", alignment(published.adkim));
  element(out, 2, "aspf", alignment(published.aspf));
  if (!published.fo.empty()) element(out, 2, "fo", published.fo);
  element(out, 2, "discovery_method", meta.discovery);
  element(out, 2, "testing", published.testing ? "y" : "n");
  out += "  </policy_published>\n";
  for (const auto& r : rows) append_row(out, r);
  out += "</feedback>\n";
  return out;
}

std::string report_file_name(const ReportMetadata& meta, std::string_view policy_domain) {
  return meta.org_name + "!" + std::string(policy_domain) + "!" + std::to_string(meta.begin) + "!" +
         std::to_string(meta.end) + "!" + meta.report_id + ".xml.gz";
}

std::string report_subject(const ReportMetadata& meta, std::string_view policy_domain) {
  return "Report Domain: " + std::string(policy_domain) + " Submitter: " + meta.org_name + " Report-ID: <" +
         meta.report_id + ">";
}

std::vector<ReportDestination> mailto_destinations(const std::vector<std::string>& uris) {
  std::vector<ReportDestination> out;
  for (const auto& raw : uris) {
    std::string_view uri = util::trim(raw);
    if (uri.size() < 8 || !util::iequals(uri.substr(0, 7), "mailto:")) continue;
    uri.remove_prefix(7);
    ReportDestination d;
    auto bang = uri.rfind('!');
    std::string_view addr = bang == std::string_view::npos ? uri : uri.substr(0, bang);
    if (bang != std::string_view::npos) {
      std::string_view size = uri.substr(bang + 1);
      std::uint64_t mult = 1;
      if (!size.empty() && std::isalpha(static_cast<unsigned char>(size.back()))) {
        char u = static_cast<char>(std::tolower(static_cast<unsigned char>(size.back())));
        mult = u == 'k' ? 1024ull : u == 'm' ? 1024ull * 1024 : u == 'g' ? 1024ull * 1024 * 1024 : u == 't' ? 1ull << 40 : 0;
        size.remove_suffix(1);
      }
      auto n = util::parse_uint(size);
      if (!n || mult == 0) continue;
      d.max_size = *n * mult;
    }
    // Percent-decoding of the address (RFC 3986); '?' starts header fields we do not use.
    std::string decoded;
    for (std::size_t i = 0; i < addr.size() && addr[i] != '?'; ++i) {
      if (addr[i] == '%' && i + 2 < addr.size() && std::isxdigit(static_cast<unsigned char>(addr[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(addr[i + 2]))) {
        decoded += static_cast<char>(std::stoi(std::string(addr.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        decoded += addr[i];
      }
    }
    auto at = decoded.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == decoded.size()) continue;
    bool clean = true;
    for (char c : decoded) clean &= static_cast<unsigned char>(c) > 0x20 && c != '<' && c != '>' && c != ',';
    if (!clean) continue;
    d.address = decoded;
    out.push_back(std::move(d));
  }
  return out;
}

std::string verification_name(std::string_view policy_domain, std::string_view destination_domain) {
  return std::string(policy_domain) + "._report._dmarc." + std::string(destination_domain);
}

}  // namespace mailmoat::auth::dmarc

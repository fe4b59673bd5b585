// The Public Suffix List's own test vectors (conformance/dmarc/psl/tests.txt),
// one ctest case per line, against Debian's publicsuffix data through libpsl:
// the organizational domains of DMARC's RFC 7489 mode.
#include <gtest/gtest.h>

#include <fstream>

#include "auth/dmarc/psl.h"

namespace mailmoat::auth::dmarc {
namespace {

struct PslCase {
  int line = 0;
  std::string input, expected;
};

void PrintTo(const PslCase& c, std::ostream* os) { *os << c.input << " -> " << c.expected; }

std::vector<PslCase> load() {
  std::ifstream in(std::string(MAILMOAT_SHARED_DIR) + "/conformance/dmarc/psl/tests.txt");
  std::vector<PslCase> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line.starts_with("//")) continue;
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    PslCase c{n, line.substr(0, sp), line.substr(sp + 1)};
    if (c.input == "null") c.input.clear();
    if (c.expected == "null") c.expected.clear();
    out.push_back(c);
  }
  return out;
}

const PublicSuffixList& system_list() {
  static PublicSuffixList list = *PublicSuffixList::system();
  return list;
}

class PslSuite : public testing::TestWithParam<PslCase> {};

TEST_P(PslSuite, RegistrableDomain) {
  const auto& c = GetParam();
  EXPECT_EQ(system_list().registrable_domain(c.input), c.expected) << "tests.txt line " << c.line << ": " << c.input;
}

std::string name(const testing::TestParamInfo<PslCase>& info) {
  std::string n = "line" + std::to_string(info.param.line) + "_";
  for (unsigned char ch : info.param.input) n += std::isalnum(ch) ? static_cast<char>(ch) : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(PublicSuffixTests, PslSuite, testing::ValuesIn(load()), name);

TEST(PslSuiteFile, HasAllCases) { EXPECT_EQ(load().size(), 78u); }

TEST(PublicSuffixList, OrganizationalDomainFallsBackToTheNameItself) {
  EXPECT_EQ(system_list().organizational_domain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(system_list().organizational_domain("co.uk"), "co.uk");
}

}  // namespace
}  // namespace mailmoat::auth::dmarc

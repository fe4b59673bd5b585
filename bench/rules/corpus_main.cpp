// Writes the benchmark corpus for the Postfix peer: DIR/checks-N.regexp
// (header_checks/body_checks lines, a regexp table) and
// DIR/lines.txt (every header field, unfolded, and every body line of every
// message: what Postfix's cleanup feeds to header_checks and body_checks).
#include <cstdio>
#include <fstream>
#include <string>

#include "corpus.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: rules_corpus DIR MESSAGES\n");
    return 2;
  }
  std::string dir = argv[1];
  int n = std::stoi(argv[2]);
  for (int rules : {10, 100, 1000}) {
    std::ofstream table(dir + "/checks-" + std::to_string(rules) + ".regexp");
    // Postfix regexp tables match case-insensitively by default, as mailmoat's rules do.
    for (const auto& l : bench_rules::make_rules(rules).postfix_lines) table << l << "\n";
  }
  std::ofstream lines(dir + "/lines.txt");
  for (const auto& m : bench_rules::make_messages(n)) {
    std::string unfolded;
    bool in_header = true;
    std::size_t pos = 0;
    while (pos < m.bytes.size()) {
      std::size_t eol = m.bytes.find("\r\n", pos);
      if (eol == std::string::npos) eol = m.bytes.size();
      std::string line = m.bytes.substr(pos, eol - pos);
      pos = eol + 2;
      if (in_header) {
        if (line.empty()) {
          if (!unfolded.empty()) lines << unfolded << "\n";
          in_header = false;
        } else if (line[0] == ' ' || line[0] == '\t') {
          unfolded += line;
        } else {
          if (!unfolded.empty()) lines << unfolded << "\n";
          unfolded = line;
        }
      } else if (!line.empty()) {
        lines << line << "\n";
      }
    }
  }
  return 0;
}

// YARA rules (libyara) for Safe Attachments: compiled once by the gateway from
// a directory of .yar/.yara files and saved; each sandbox worker loads the
// compiled file before it confines itself and scans every file and archive
// member with it. A match is `malicious: yara: RULE`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "attachments/facts.h"
#include "util/error.h"

namespace mailmoat::attachments {

class YaraRules {
 public:
  ~YaraRules();
  YaraRules(const YaraRules&) = delete;
  YaraRules& operator=(const YaraRules&) = delete;

  // Compiles every *.yar / *.yara file in `dir` (sorted); errors name file:line.
  static util::Result<std::unique_ptr<YaraRules>> compile_dir(const std::string& dir);
  static util::Result<std::unique_ptr<YaraRules>> load(const std::string& compiled_file);
  util::Result<void> save(const std::string& compiled_file) const;
  std::size_t files() const { return files_; }

  void scan(std::string_view content, Analysis& out) const;

 private:
  YaraRules() = default;
  void* rules_ = nullptr;  // YR_RULES*
  std::size_t files_ = 0;
};

}  // namespace mailmoat::attachments

#include "attachments/yara_rules.h"

#include <yara.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

namespace mailmoat::attachments {
namespace {

void init_yara() {
  static std::once_flag once;
  std::call_once(once, [] { yr_initialize(); });
}

void on_compile_error(int level, const char* file, int line, const YR_RULE*, const char* message, void* user) {
  if (level != YARA_ERROR_LEVEL_ERROR) return;
  auto* errors = static_cast<std::string*>(user);
  if (!errors->empty()) *errors += "; ";
  *errors += std::string(file ? file : "?") + ":" + std::to_string(line) + ": " + (message ? message : "error");
}

int on_match(YR_SCAN_CONTEXT*, int message, void* data, void* user) {
  if (message == CALLBACK_MSG_RULE_MATCHING) {
    auto* out = static_cast<Analysis*>(user);
    out->flag(Verdict::malicious, std::string("yara: ") + static_cast<YR_RULE*>(data)->identifier);
  }
  return CALLBACK_CONTINUE;
}

}  // namespace

YaraRules::~YaraRules() {
  if (rules_) yr_rules_destroy(static_cast<YR_RULES*>(rules_));
}

util::Result<std::unique_ptr<YaraRules>> YaraRules::compile_dir(const std::string& dir) {
  init_yara();
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yar" || ext == ".yara")) files.push_back(e.path());
  }
  if (ec) return util::fail("yara rules directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  YR_COMPILER* compiler = nullptr;
  if (yr_compiler_create(&compiler) != ERROR_SUCCESS) return util::fail("yara: cannot create a compiler");
  std::string errors;
  yr_compiler_set_callback(compiler, on_compile_error, &errors);
  for (const auto& path : files) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
      errors += (errors.empty() ? "" : "; ") + path.string() + ": cannot be read";
      continue;
    }
    yr_compiler_add_file(compiler, f, nullptr, path.c_str());  // errors come through the callback
    (void)std::fclose(f);  // read-only: nothing is lost if closing fails
    if (!errors.empty()) break;  // libyara forbids adding more after an error
  }
  std::unique_ptr<YaraRules> out(new YaraRules());
  out->files_ = files.size();
  if (errors.empty()) {
    YR_RULES* rules = nullptr;
    if (yr_compiler_get_rules(compiler, &rules) != ERROR_SUCCESS) errors = "yara: cannot build the rules";
    out->rules_ = rules;
  }
  yr_compiler_destroy(compiler);
  if (!errors.empty()) return util::fail("yara: " + errors);
  return out;
}

util::Result<std::unique_ptr<YaraRules>> YaraRules::load(const std::string& compiled_file) {
  init_yara();
  YR_RULES* rules = nullptr;
  if (yr_rules_load(compiled_file.c_str(), &rules) != ERROR_SUCCESS)
    return util::fail("yara: cannot load compiled rules from " + compiled_file);
  std::unique_ptr<YaraRules> out(new YaraRules());
  out->rules_ = rules;
  return out;
}

util::Result<void> YaraRules::save(const std::string& compiled_file) const {
  if (yr_rules_save(static_cast<YR_RULES*>(rules_), compiled_file.c_str()) != ERROR_SUCCESS)
    return util::fail("yara: cannot save compiled rules to " + compiled_file);
  return {};
}

void YaraRules::scan(std::string_view content, Analysis& out) const {
  out.ran("yara");
  int rc = yr_rules_scan_mem(static_cast<YR_RULES*>(rules_), reinterpret_cast<const uint8_t*>(content.data()),
                             content.size(), SCAN_FLAGS_FAST_MODE, on_match, &out, 10);
  if (rc == ERROR_SCAN_TIMEOUT) {
    out.scan_incomplete = true;
    out.flag(Verdict::suspicious, "yara: scan timed out");
  } else if (rc != ERROR_SUCCESS) {
    out.scan_incomplete = true;
    out.flag(Verdict::scan_error, "yara: scan failed (" + std::to_string(rc) + ")");
  }
}

}  // namespace mailmoat::attachments

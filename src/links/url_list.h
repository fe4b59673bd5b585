// Block and allow lists of URLs (docs/links.md "Lists"): one entry a line, in
// any of the formats feeds come in, mixed freely: a domain ("evil.example",
// covering its subdomains), a host wildcard ("*.evil.example", subdomains
// only), a hosts-file line ("0.0.0.0 evil.example"), a URL prefix (URLhaus-style
// lists: "http://evil.example/path"), or an RE2 regular expression "/.../"
// matched against the whole URL (linear time on hostile input). '#' starts a comment.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "links/url.h"
#include "util/error.h"

namespace re2 {
class RE2;
}

namespace mailmoat::links {

class UrlList {
 public:
  UrlList();
  ~UrlList();
  UrlList(UrlList&&) noexcept;
  UrlList& operator=(UrlList&&) noexcept;
  // Lines that are not understood are reported in `problems` and skipped.
  static UrlList parse(std::string_view text, const std::string& source, std::vector<std::string>& problems);
  void merge(UrlList&& other);
  // The entry that matches ("list.txt:12 evil.example"), or "" when none.
  std::string match(std::string_view url, const UrlParts& parts) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string text;
    std::string where;
  };
  std::unordered_map<std::string, std::string> domains_;    // host -> where (covers subdomains)
  std::unordered_map<std::string, std::string> wildcards_;  // "evil.example" of "*.evil.example" -> where
  std::vector<Entry> prefixes_;
  std::vector<std::pair<std::unique_ptr<re2::RE2>, std::string>> regexes_;
};

// Lists read from files and read again when a file changes (checked at most once
// per `interval`, on use); a file that cannot be read keeps the last good version.
class UrlListFiles {
 public:
  UrlListFiles(std::vector<std::string> paths, std::chrono::seconds interval);
  // The current lists, reloading first when due; `generation` changes on every reload.
  std::shared_ptr<const UrlList> current(std::uint64_t& generation);
  std::vector<std::string> take_problems();

 private:
  void reload_locked();
  std::vector<std::string> paths_;
  std::chrono::seconds interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point checked_{};
  std::vector<std::filesystem::file_time_type> stamps_;
  std::shared_ptr<const UrlList> lists_ = std::make_shared<UrlList>();
  std::uint64_t generation_ = 0;
  std::vector<std::string> problems_;
};

}  // namespace mailmoat::links

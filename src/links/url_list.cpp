#include "links/url_list.h"

#include <re2/re2.h>

#include <fstream>
#include <sstream>

#include "util/strings.h"

namespace mailmoat::links {

UrlList::UrlList() = default;
UrlList::~UrlList() = default;
UrlList::UrlList(UrlList&&) noexcept = default;
UrlList& UrlList::operator=(UrlList&&) noexcept = default;

UrlList UrlList::parse(std::string_view text, const std::string& source, std::vector<std::string>& problems) {
  UrlList list;
  std::size_t line_no = 0;
  for (std::string_view line : util::split(text, '\n')) {
    ++line_no;
    std::size_t hash = line.find('#');
    // A '#' inside a URL is a fragment, not a comment.
    if (hash != std::string_view::npos && (hash == 0 || line[hash - 1] == ' ' || line[hash - 1] == '\t'))
      line = line.substr(0, hash);
    line = util::trim(line);
    if (line.empty()) continue;
    std::string where = source + ":" + std::to_string(line_no);
    if (line.size() >= 2 && line.front() == '/' && line.back() == '/') {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_unique<re2::RE2>(re2::StringPiece(line.data() + 1, line.size() - 2), opts);
      if (!re->ok()) {
        problems.push_back(where + ": invalid regular expression: " + re->error());
        continue;
      }
      list.regexes_.emplace_back(std::move(re), where + " " + std::string(line));
      continue;
    }
    if (line.find("://") != std::string_view::npos) {
      list.prefixes_.push_back({std::string(line), where + " " + std::string(line)});
      continue;
    }
    // hosts-file: "0.0.0.0 host" or "127.0.0.1 host [host...]"
    std::size_t space = line.find_first_of(" \t");
    if (space != std::string_view::npos) {
      std::string_view first = line.substr(0, space);
      if (first != "0.0.0.0" && first != "127.0.0.1" && first != "::" && first != "::1") {
        problems.push_back(where + ": not understood: " + std::string(line.substr(0, 80)));
        continue;
      }
      for (std::string_view host : util::split(util::trim(line.substr(space)), ' ')) {
        host = util::trim(host);
        if (!host.empty() && host != "localhost") list.domains_.emplace(util::to_lower(host), where + " " + std::string(host));
      }
      continue;
    }
    std::string host = util::to_lower(line);
    if (host.starts_with("*.") && host.size() > 2)
      list.wildcards_.emplace(host.substr(2), where + " " + host);
    else
      list.domains_.emplace(host, where + " " + host);
  }
  return list;
}

void UrlList::merge(UrlList&& other) {
  domains_.merge(other.domains_);
  wildcards_.merge(other.wildcards_);
  for (auto& p : other.prefixes_) prefixes_.push_back(std::move(p));
  for (auto& r : other.regexes_) regexes_.push_back(std::move(r));
}

std::size_t UrlList::size() const { return domains_.size() + wildcards_.size() + prefixes_.size() + regexes_.size(); }

std::string UrlList::match(std::string_view url, const UrlParts& parts) const {
  // The host and each parent domain: "a.b.evil.example", "b.evil.example", ...
  std::string_view host = parts.host;
  bool first = true;
  while (!host.empty()) {
    if (auto it = domains_.find(std::string(host)); it != domains_.end()) return it->second;
    if (!first)
      if (auto it = wildcards_.find(std::string(host)); it != wildcards_.end()) return it->second;
    first = false;
    std::size_t dot = host.find('.');
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  for (const auto& p : prefixes_)
    if (util::istarts_with(url, p.text)) return p.where;
  for (const auto& [re, where] : regexes_)
    if (re2::RE2::PartialMatch(re2::StringPiece(url.data(), url.size()), *re)) return where;
  return {};
}

UrlListFiles::UrlListFiles(std::vector<std::string> paths, std::chrono::seconds interval)
    : paths_(std::move(paths)), interval_(interval) {
  std::lock_guard lock(mutex_);
  reload_locked();
}

void UrlListFiles::reload_locked() {
  std::vector<std::filesystem::file_time_type> stamps;
  for (const auto& p : paths_) {
    std::error_code ec;
    stamps.push_back(std::filesystem::last_write_time(p, ec));
  }
  if (stamps == stamps_ && generation_ > 0) return;
  UrlList merged;
  for (const auto& p : paths_) {
    std::ifstream in(p);
    if (!in) {
      problems_.push_back(p + ": cannot be read; the previous version stays in use");
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    merged.merge(UrlList::parse(text.str(), p, problems_));
  }
  stamps_ = std::move(stamps);
  lists_ = std::make_shared<const UrlList>(std::move(merged));
  ++generation_;
}

std::shared_ptr<const UrlList> UrlListFiles::current(std::uint64_t& generation) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - checked_ >= interval_) {
    checked_ = now;
    reload_locked();
  }
  generation = generation_;
  return lists_;
}

std::vector<std::string> UrlListFiles::take_problems() {
  std::lock_guard lock(mutex_);
  return std::exchange(problems_, {});
}

}  // namespace mailmoat::links

#include "app/api_support.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace mailmoat::app {

http::Response api_error(int status, const std::string& message) {
  return http::Response::json(status, nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                                              nlohmann::json::error_handler_t::replace));
}

std::string url_decode(std::string_view s) {
  auto hex = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_window_key(std::string_view key) { return key == "since" || key == "until" || key == "limit"; }

std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : util::split(query, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    out.emplace_back(url_decode(part.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1)));
  }
  return out;
}

}  // namespace mailmoat::app

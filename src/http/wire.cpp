#include "http/wire.h"

#include <ostream>  // before Beast: its status header streams without including it

#include <boost/beast/http/status.hpp>

#include <string_view>
#include <utility>
#include <vector>

#include "util/strings.h"

namespace mailmoat::http {

namespace {

void append_value(std::string& out, std::string_view value) {
  for (char c : value) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
}

}  // namespace

std::string serialize_response(const Response& response, const WireOptions& options) {
  using Field = std::pair<std::string_view, std::string_view>;
  std::vector<Field> fields;
  fields.reserve(5 + response.headers.size());
  auto set = [&](std::string_view name, std::string_view value) {
    for (auto& f : fields)
      if (util::iequals(f.first, name)) {
        f.second = value;
        return;
      }
    fields.emplace_back(name, value);
  };
  set("Server", "mailmoat");
  set("Content-Type", response.content_type);
  set("X-Content-Type-Options", "nosniff");
  if (options.strict_transport) set("Strict-Transport-Security", "max-age=31536000");
  for (const auto& [name, value] : response.headers) set(name, value);

  const unsigned status = static_cast<unsigned>(response.status);
  const bool bodyless = (status >= 100 && status < 200) || status == 204 || status == 304;
  std::string out;
  out.reserve(128 + response.body.size() + 64 * fields.size());
  out += options.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out += "\r\n";
  for (const auto& [name, value] : fields) {
    if (util::iequals(name, "Content-Length") || util::iequals(name, "Connection") ||
        util::iequals(name, "Transfer-Encoding"))
      continue;  // the listener's to say, from the body and the connection
    out += name;
    out += ": ";
    append_value(out, value);
    out += "\r\n";
  }
  if (options.version == 10 && options.keep_alive) out += "Connection: keep-alive\r\n";
  if (options.version != 10 && !options.keep_alive) out += "Connection: close\r\n";
  if (!bodyless) {
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!bodyless) out += response.body;
  return out;
}

}  // namespace mailmoat::http

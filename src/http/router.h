// HTTP requests and responses as plain values, and the table that maps a
// method and path to the handler that answers it. No sockets here: the
// server feeds requests in, so handlers are testable without a listener.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mailmoat::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // target without the query
  std::string query;   // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_address;
  bool secure = false;  // arrived over TLS

  // First header of that name (ASCII case-insensitive), or "".
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  void add(std::string method, std::string path, Handler handler);
  // Matches every path that starts with `prefix` (longest prefix wins over shorter ones).
  void add_prefix(std::string method, std::string prefix, Handler handler);
  // 404 for an unknown path, 405 for a known path with another method.
  Response route(const Request& request) const;

 private:
  std::map<std::pair<std::string, std::string>, Handler> routes_;
  std::map<std::pair<std::string, std::string>, Handler> prefixes_;
};

}  // namespace mailmoat::http

#include "http/router.h"

#include "util/strings.h"

namespace mailmoat::http {

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (util::iequals(k, name)) return v;
  return {};
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

void Router::add(std::string method, std::string path, Handler handler) {
  routes_[{std::move(method), std::move(path)}] = std::move(handler);
}

void Router::add_prefix(std::string method, std::string prefix, Handler handler) {
  prefixes_[{std::move(method), std::move(prefix)}] = std::move(handler);
}

Response Router::route(const Request& request) const {
  auto it = routes_.find({request.method, request.path});
  if (it != routes_.end()) return it->second(request);
  const Handler* best = nullptr;
  std::size_t best_len = 0;
  bool path_known = false;
  for (const auto& [key, handler] : prefixes_) {
    if (!request.path.starts_with(key.second)) continue;
    path_known = true;
    if (key.first == request.method && key.second.size() >= best_len) {
      best = &handler;
      best_len = key.second.size();
    }
  }
  if (best) return (*best)(request);
  if (path_known) return Response::json(405, R"({"error":"method not allowed"})");
  if (request.method == "HEAD") {
    auto get = routes_.find({"GET", request.path});
    if (get != routes_.end()) {
      Response r = get->second(request);
      r.body.clear();
      return r;
    }
  }
  for (const auto& [key, handler] : routes_)
    if (key.second == request.path) return Response::json(405, R"({"error":"method not allowed"})");
  return Response::json(404, R"({"error":"not found"})");
}

}  // namespace mailmoat::http

#include "app/console_static.h"

#include <filesystem>
#include <fstream>

#include "util/strings.h"

#ifndef MAILMOAT_CONSOLE_DIR
#define MAILMOAT_CONSOLE_DIR ""
#endif

namespace mailmoat::app {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
constexpr std::uintmax_t kMaxFile = std::uintmax_t{16} * 1024 * 1024;

std::optional<std::string_view> content_type(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".json" || ext == ".map") return "application/json";
  return std::nullopt;
}

http::Response with_security_headers(http::Response r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

http::Response serve(const std::string& dir, const http::Request& req) {
  std::string_view rel = std::string_view(req.path).substr(std::string_view("/console/").size());
  // Pages are chosen by the URL fragment, so every path without a file type is the app.
  if (rel.empty() || rel.find('.') == std::string_view::npos) rel = "index.html";
  auto file = console_file(dir, rel);
  if (!file) return with_security_headers(http::Response::text(404, "not found\n"));
  auto type = content_type(*file);
  std::error_code ec;
  auto size = fs::file_size(*file, ec);
  if (!type || ec || size > kMaxFile) return with_security_headers(http::Response::text(404, "not found\n"));
  std::ifstream in(*file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), {});
  http::Response r;
  r.status = 200;
  r.content_type = std::string(*type);
  r.body = std::move(body);
  // Vite names assets by content hash: they never change under one name.
  r.headers.emplace_back("Cache-Control", rel.starts_with("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  return with_security_headers(std::move(r));
}

}  // namespace

std::optional<std::string> console_file(const std::string& dir, std::string_view relative) {
  if (dir.empty() || relative.empty() || relative.size() > 256) return std::nullopt;
  for (char c : relative)
    if (c == '\\' || c == '%' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
  for (auto seg : util::split(relative, '/'))
    if (seg.empty() || seg.front() == '.') return std::nullopt;
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) return std::nullopt;
  const fs::path full = fs::weakly_canonical(root / fs::path(std::string(relative)), ec);
  if (ec) return std::nullopt;
  auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r != root.end()) return std::nullopt;
  if (!fs::is_regular_file(full, ec)) return std::nullopt;
  return full.string();
}

void add_console_routes(http::Router& router, std::string dir) {
  if (dir.empty()) dir = MAILMOAT_CONSOLE_DIR;
  router.add("GET", "/console", [](const http::Request&) {
    http::Response r = http::Response::text(301, "moved to /console/\n");
    r.headers.emplace_back("Location", "/console/");
    return r;
  });
  router.add_prefix("GET", "/console/", [dir](const http::Request& req) {
    if (console_file(dir, "index.html")) return serve(dir, req);
    return with_security_headers(http::Response::text(
        404, "the admin console is not built here: build it (ninja console, from web/) or set http.console_dir\n"));
  });
}

}  // namespace mailmoat::app

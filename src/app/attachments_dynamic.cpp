#include "app/attachments_dynamic.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attachments/mime_parts.h"
#include "links/token.h"

namespace mailmoat::app {
namespace {

namespace fs = std::filesystem;

bool write_durably(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  bool ok = done == data.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

http::Response page(int status, const std::string& title, const std::string& text) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
           "</title></head><body><h1>" + html_escape(title) + "</h1><p>" + html_escape(text) + "</p></body></html>\n";
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back({"Content-Security-Policy", "default-src 'none'"});
  return r;
}

// A declared type is echoed only when it is a plain type/subtype token;
// anything else (or a type a browser would render) becomes a download of octets.
std::string served_type(const std::string& declared) {
  if (declared.empty() || declared.size() > 100) return "application/octet-stream";
  std::size_t slash = 0;
  for (std::size_t i = 0; i < declared.size(); ++i) {
    char c = declared[i];
    if (c == '/') {
      if (slash) return "application/octet-stream";
      slash = i;
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+' && c != '-' && c != '_') {
      return "application/octet-stream";
    }
  }
  if (!slash) return "application/octet-stream";
  // Types a browser renders as a document run script in our origin: never those.
  std::string lower;
  for (char c : declared) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view page : {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                                "text/xsl", "application/javascript", "text/javascript"})
    if (lower == page) return "application/octet-stream";
  if (lower.starts_with("multipart/") || lower.starts_with("message/")) return "application/octet-stream";
  return declared;
}

std::string disposition(const std::string& name) {
  std::string ascii;
  for (char c : name) ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '_';
  if (ascii.empty()) ascii = "attachment";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + links::percent_encode(name);
}

http::Response serve(const links::AttachmentLinkSigner& signer, const DynamicStore& store, queue::QueueManager& queue,
                     const http::Request& request) {
  auto link = links::parse_attachment_link(request.query);
  if (!link || !signer.verify(*link) || !safe_id(link->message))
    return page(403, "Invalid link", "This attachment link is not valid.");
  auto outcome = store.outcome(link->message);
  if (!outcome) {
    if (queue.find(link->message))
      return page(200, "Being scanned", "mailmoat Safe Attachments is still scanning this attachment. Try again in a minute.");
    return page(404, "Not available", "This attachment is no longer available.");
  }
  if (outcome->verdict != "clean")
    return page(403, "Attachment blocked", "mailmoat Safe Attachments blocked this attachment: " + outcome->reason);
  auto original = store.original(link->message);
  if (!original) return page(404, "Not available", "This attachment is no longer available.");
  auto walk = attachments::walk_mime(*original);
  for (const auto& part : walk.parts) {
    if (std::to_string(part.leaf_index) != link->part) continue;
    http::Response r;
    r.content_type = served_type(part.declared_type);
    r.body = part.content;
    r.headers.push_back({"Content-Disposition", disposition(part.name)});
    r.headers.push_back({"X-Content-Type-Options", "nosniff"});
    r.headers.push_back({"Cache-Control", "private, no-store"});
    r.headers.push_back({"Content-Security-Policy", "default-src 'none'; sandbox"});
    return r;
  }
  return page(404, "Not available", "This attachment is not in the message.");
}

}  // namespace

bool safe_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

DynamicStore::DynamicStore(std::string directory) : dir_(std::move(directory)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
}

util::Result<void> DynamicStore::save(const std::string& id, const Outcome& outcome, std::string_view original) {
  if (!safe_id(id)) return util::fail("unsafe id " + id);
  if (outcome.verdict == "clean" && !write_durably(dir_ + "/" + id + ".eml", original))
    return util::fail("cannot write " + dir_ + "/" + id + ".eml");
  nlohmann::json j{{"verdict", outcome.verdict}, {"reason", outcome.reason}};
  if (!write_durably(dir_ + "/" + id + ".json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)))
    return util::fail("cannot write " + dir_ + "/" + id + ".json");
  return {};
}

std::optional<DynamicStore::Outcome> DynamicStore::outcome(const std::string& id) const {
  if (!safe_id(id)) return std::nullopt;
  auto text = read_all(dir_ + "/" + id + ".json");
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return Outcome{j.value("verdict", ""), j.value("reason", "")};
}

std::optional<std::string> DynamicStore::original(const std::string& id) const {
  if (!safe_id(id)) return std::nullopt;
  return read_all(dir_ + "/" + id + ".eml");
}

std::size_t DynamicStore::expire(fs::file_time_type cutoff) {
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    const std::string ext = p.extension().string();
    if (ext != ".json" && ext != ".eml" && ext != ".tmp") continue;
    std::error_code stat_ec;
    auto written = fs::last_write_time(p, stat_ec);
    if (stat_ec || written >= cutoff) continue;
    if (fs::remove(p, stat_ec) && ext == ".json") ++removed;
  }
  return removed;
}

void add_attachment_link_routes(http::Router& router, std::shared_ptr<const links::AttachmentLinkSigner> signer,
                                std::shared_ptr<DynamicStore> store, queue::QueueManager& queue) {
  router.add("GET", "/v1/a", [signer = std::move(signer), store = std::move(store), &queue](const http::Request& r) {
    return serve(*signer, *store, queue, r);
  });
}

}  // namespace mailmoat::app

#include "attachments/cape.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "attachments/net_io.h"
#include "util/http_status.h"

namespace mailmoat::attachments {
namespace {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string error;
};

std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    std::size_t n = std::strtoul(body.substr(at, eol - at).c_str(), nullptr, 16);
    if (n == 0 || eol + 2 + n > body.size()) break;
    out.append(body, eol + 2, n);
    at = eol + 2 + n + 2;
  }
  return out;
}

// One HTTP/1.1 exchange with Connection: close; the body is read to EOF (or
// de-chunked). Replies are bounded (64 MiB) since a report can be large.
HttpResult exchange(const CapeSettings& s, const std::string& method, const std::string& target,
                    const std::string& content_type, std::string_view body, Clock::time_point deadline) {
  HttpResult r;
  Fd fd;
  if (auto e = connect_to(s.address, fd, deadline); !e.empty()) return {0, "", e};
  std::string head = method + " " + target + " HTTP/1.1\r\nHost: " + s.address + "\r\nConnection: close\r\n";
  if (!s.token.empty()) head += "Authorization: Token " + s.token + "\r\n";
  if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  if (auto e = send_all(fd.fd, head, deadline); !e.empty()) return {0, "", e};
  if (auto e = send_all(fd.fd, body, deadline); !e.empty()) return {0, "", e};
  std::string reply;
  char buf[65536];
  while (reply.size() < (64u << 20)) {
    if (!wait_for(fd.fd, POLLIN, deadline)) return {0, "", "timed out waiting for CAPE"};
    ssize_t n = recv(fd.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  auto end = reply.find("\r\n\r\n");
  r.status = util::http_status_code(reply).value_or(0);
  if (end == std::string::npos || r.status == 0) return {0, "", "not an HTTP reply"};
  std::string headers = reply.substr(0, end);
  for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  r.body = reply.substr(end + 4);
  if (headers.find("transfer-encoding: chunked") != std::string::npos) r.body = dechunk(r.body);
  return r;
}

std::string multipart(std::string_view name, std::string_view content, const std::string& boundary) {
  std::string safe;
  for (char c : name) safe += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '_';
  if (safe.empty()) safe = "sample";
  std::string out = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + safe +
                    "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  out += content;
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace

Analysis CapeClient::analyze(std::string_view name, std::string_view content, std::chrono::milliseconds budget) const {
  Analysis out;
  out.ran("cape");
  const auto deadline = Clock::now() + budget;
  auto fail = [&](const std::string& why) {
    out.flag(Verdict::scan_error, "cape: " + why);
    return out;
  };
  const std::string boundary = "mailmoat-cape-7d1f0c2a9b";
  auto created = exchange(s_, "POST", "/apiv2/tasks/create/file/", "multipart/form-data; boundary=" + boundary,
                          multipart(name, content, boundary), deadline);
  if (!created.error.empty()) return fail("submit: " + created.error);
  auto j = nlohmann::json::parse(created.body, nullptr, false);
  if (created.status != 200 || j.is_discarded() || !j.is_object() || j.value("error", false) ||
      !j.contains("data") || !j["data"].is_object() || !j["data"].contains("task_ids") ||
      !j["data"]["task_ids"].is_array() || j["data"]["task_ids"].empty() || !j["data"]["task_ids"][0].is_number_integer())
    return fail("submit: unexpected reply (HTTP " + std::to_string(created.status) + ")");
  const std::string id = std::to_string(j["data"]["task_ids"][0].get<long long>());
  while (true) {
    auto view = exchange(s_, "GET", "/apiv2/tasks/view/" + id + "/", "", {}, deadline);
    if (!view.error.empty()) return fail("task " + id + ": " + view.error);
    auto v = nlohmann::json::parse(view.body, nullptr, false);
    std::string status;
    if (!v.is_discarded() && v.is_object() && v.contains("data") && v["data"].is_object())
      status = v["data"].value("status", "");
    if (status == "reported") break;
    if (status == "failed_analysis" || status == "failed_processing" || status == "failed_reporting")
      return fail("task " + id + ": " + status);
    if (Clock::now() + s_.poll_interval >= deadline)
      return fail("analysis exceeded the CAPE budget of " + std::to_string(budget.count()) + " ms (task " + id + ")");
    std::this_thread::sleep_for(s_.poll_interval);
  }
  auto report = exchange(s_, "GET", "/apiv2/tasks/get/report/" + id + "/", "", {}, deadline);
  if (!report.error.empty()) return fail("report " + id + ": " + report.error);
  auto rj = nlohmann::json::parse(report.body, nullptr, false);
  double score = -1;
  if (!rj.is_discarded() && rj.is_object()) {
    if (rj.contains("malscore") && rj["malscore"].is_number()) score = rj["malscore"].get<double>();
    else if (rj.contains("info") && rj["info"].is_object() && rj["info"].contains("score") && rj["info"]["score"].is_number())
      score = rj["info"]["score"].get<double>();
  }
  if (score < 0) return fail("report " + id + ": no score");
  // CAPE scores run from 0 to 10 ("9.5"); a score beyond 1e9 is written short, not truncated.
  char text[32];
  (void)std::snprintf(text, sizeof text, score < 1e9 ? "%.1f" : "%.4g", score);
  if (score >= s_.malicious_score) out.flag(Verdict::malicious, "cape: score " + std::string(text) + " (task " + id + ")");
  else if (score >= s_.suspicious_score) out.flag(Verdict::suspicious, "cape: score " + std::string(text) + " (task " + id + ")");
  return out;
}

}  // namespace mailmoat::attachments

// CAPE v2 dynamic sandbox client (issue 9; optional, off by default): submits a
// file (POST /apiv2/tasks/create/file/, multipart field "file"), polls
// GET /apiv2/tasks/view/ID/ until the task is "reported", and reads the score
// from GET /apiv2/tasks/get/report/ID/ (top-level "malscore", else info.score).
// Runs in the gateway (the workers have no sockets), blocking within a budget;
// used only for files the static analyzers find suspicious. Tested against a
// local server following CAPE's documented API, not against a real CAPE.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "attachments/facts.h"

namespace mailmoat::attachments {

struct CapeSettings {
  std::string address;  // host:port of CAPE's web/API server (plain HTTP)
  std::string token;    // "Authorization: Token ..." when not empty
  std::chrono::milliseconds poll_interval{2000};
  double malicious_score = 7.0;   // malscore at or above: malicious
  double suspicious_score = 4.0;  // at or above: suspicious; below: clean
};

class CapeClient {
 public:
  explicit CapeClient(CapeSettings settings) : s_(std::move(settings)) {}
  // The verdict from CAPE's score; scan error (with the reason) when CAPE is
  // unreachable, answers nonsense, or does not report within `budget`.
  Analysis analyze(std::string_view name, std::string_view content, std::chrono::milliseconds budget) const;

 private:
  CapeSettings s_;
};

}  // namespace mailmoat::attachments

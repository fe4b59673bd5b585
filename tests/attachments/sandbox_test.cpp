// The sandbox holds: real `mailmoat analyze-worker` processes, started by the
// pool in namespaces under seccomp and rlimits. Each forbidden action (socket,
// write a file, exec, allocate past the limit, run past the deadline) stops
// the worker; the caller gets `scan error` and the pool keeps serving.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "attachments/sandbox/ipc.h"
#include "attachments/sandbox/pool.h"
#include "attachments/yara_rules.h"

#include <filesystem>
#include <fstream>
#include "samples.h"

namespace mailmoat::attachments::sandbox {
namespace {

namespace s = test_samples;

SandboxSettings settings(std::vector<std::string> extra = {}) {
  SandboxSettings st;
  st.binary = MAILMOAT_BINARY;
  st.workers = 1;
  st.max_jobs = 3;
  st.deadline = std::chrono::milliseconds(5000);
  st.memory_mb = 512;
  st.extra_args = std::move(extra);
  return st;
}

AnalysisRequest docm() { return AnalysisRequest{"invoice.docm", s::docm_with_autoopen(), {}, {}}; }

bool has_reason(const Analysis& a, std::string_view needle) {
  return std::any_of(a.reasons.begin(), a.reasons.end(),
                     [&](const std::string& r) { return r.find(needle) != std::string::npos; });
}

std::string joined(const Analysis& a) {
  std::string out;
  for (const auto& r : a.reasons) out += r + "; ";
  return out;
}

TEST(Sandbox, WorkerAnalysesAndPoolRecyclesAfterMaxJobs) {
  WorkerPool pool(settings());
  for (int i = 0; i < 7; ++i) {
    auto a = pool.analyze(docm());
    ASSERT_EQ(a.verdict, Verdict::malicious) << joined(a);
    EXPECT_TRUE(has_reason(a, "auto-exec macro autoopen"));
    EXPECT_NE(std::find(a.analyzers.begin(), a.analyzers.end(), "sandbox"), a.analyzers.end());
  }
  auto st = pool.stats();
  EXPECT_EQ(st.jobs, 7u);
  EXPECT_EQ(st.recycled, 2u);  // after jobs 3 and 6
  EXPECT_EQ(st.spawned, 3u);
  EXPECT_EQ(st.failures, 0u);
  std::printf("worker namespaces: %s\n", pool.namespaces().c_str());
  EXPECT_NE(pool.namespaces().find("net"), std::string::npos);
}

void expect_stopped(const std::string& action, std::string_view reason) {
  WorkerPool pool(settings({"--test-action", action}));
  auto a = pool.analyze(docm());
  EXPECT_EQ(a.verdict, Verdict::scan_error) << action << ": " << joined(a);
  EXPECT_TRUE(has_reason(a, reason)) << action << ": " << joined(a);
  // The next job gets a fresh worker; the caller (the gateway) is unharmed.
  auto again = pool.analyze(docm());
  EXPECT_EQ(again.verdict, Verdict::scan_error);
  EXPECT_EQ(pool.stats().spawned, 2u);
}

TEST(Sandbox, SocketCreationKillsTheWorker) { expect_stopped("socket", "SIGSYS"); }

TEST(Sandbox, WritingAFileKillsTheWorker) {
  ::unlink("/tmp/mailmoat-sandbox-escape");
  expect_stopped("write", "SIGSYS");
  struct stat st;
  EXPECT_NE(::stat("/tmp/mailmoat-sandbox-escape", &st), 0) << "the worker wrote a file";
}

TEST(Sandbox, ExecKillsTheWorker) {
  ::unlink("/tmp/mailmoat-sandbox-exec");
  expect_stopped("exec", "SIGSYS");
  struct stat st;
  EXPECT_NE(::stat("/tmp/mailmoat-sandbox-exec", &st), 0) << "the worker ran a program";
}

TEST(Sandbox, AllocatingPastTheLimitStopsTheWorker) { expect_stopped("allocate", "killed by signal"); }

TEST(Sandbox, WallClockDeadlineKillsAHungWorker) {
  auto st = settings({"--test-action", "sleep"});
  st.deadline = std::chrono::milliseconds(500);
  WorkerPool pool(st);
  auto start = std::chrono::steady_clock::now();
  auto a = pool.analyze(docm());
  EXPECT_EQ(a.verdict, Verdict::scan_error);
  EXPECT_TRUE(has_reason(a, "analysis exceeded 500 ms")) << joined(a);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Every process below `root` (the pool's worker and the PID namespace's
// first process in front of it), from /proc.
std::vector<pid_t> descendants(pid_t root) {
  std::map<pid_t, pid_t> parent;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = 0;
    try {
      pid = std::stoi(e.path().filename().string());
    } catch (...) {
      continue;
    }
    std::ifstream in(e.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    parent[pid] = ppid;
  }
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent) {
    for (pid_t up = ppid; up > 1; up = parent.count(up) ? parent[up] : 0)
      if (up == root) {
        out.push_back(pid);
        break;
      }
  }
  return out;
}

// A worker killed from outside in the middle of an analysis (the OOM killer,
// an administrator's kill -9): the caller gets `scan error` at once, not at the
// deadline, and the pool starts a fresh worker for the next file.
TEST(Sandbox, WorkerKilledMidAnalysisIsAScanErrorAndThePoolGoesOn) {
  auto st = settings({"--test-action", "sleep"});
  st.deadline = std::chrono::milliseconds(3000);
  WorkerPool pool(st);
  auto start = std::chrono::steady_clock::now();
  auto first = std::async(std::launch::async, [&pool] { return pool.analyze(docm()); });
  std::vector<pid_t> workers;
  while (workers.empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    workers = descendants(::getpid());
  }
  ASSERT_FALSE(workers.empty()) << "no worker process appeared";
  for (pid_t pid : workers) ::kill(pid, SIGKILL);
  auto a = first.get();
  EXPECT_EQ(a.verdict, Verdict::scan_error) << joined(a);
  EXPECT_TRUE(has_reason(a, "killed by signal")) << joined(a);
  EXPECT_FALSE(has_reason(a, "exceeded")) << "answered at the deadline, not when the worker died: " << joined(a);
  // The next file gets a new worker (this one sleeps too, so it ends at the deadline).
  auto again = pool.analyze(docm());
  EXPECT_EQ(again.verdict, Verdict::scan_error);
  EXPECT_TRUE(has_reason(again, "analysis exceeded 3000 ms")) << joined(again);
  EXPECT_EQ(pool.stats().spawned, 2u);
}

TEST(Sandbox, MissingBinaryIsAScanErrorNotACrash) {
  auto st = settings();
  st.binary = "/nonexistent/mailmoat";
  WorkerPool pool(st);
  auto a = pool.analyze(docm());
  EXPECT_EQ(a.verdict, Verdict::scan_error);
  EXPECT_TRUE(has_reason(a, "sandbox:")) << joined(a);
}

TEST(Sandbox, WorkerLoadsCompiledYaraRules) {
  std::string dir = "/tmp/mailmoat-sandbox-yara-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/r.yara") << "rule Sandbox_Marker { strings: $m = \"SANDBOX-MARKER\" condition: $m }\n";
  auto rules = YaraRules::compile_dir(dir);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_TRUE((*rules)->save(dir + "/compiled"));
  auto st = settings();
  st.yara_file = dir + "/compiled";
  WorkerPool pool(st);
  auto a = pool.analyze({"x.bin", "abc SANDBOX-MARKER def", {}, {}});
  EXPECT_EQ(a.verdict, Verdict::malicious) << joined(a);
  EXPECT_TRUE(has_reason(a, "yara: Sandbox_Marker")) << joined(a);
  // A large file travels in a sealed memfd beside the frame: its last bytes arrive too.
  std::string large(3u << 20, 'x');
  large += "SANDBOX-MARKER";
  auto b = pool.analyze({"large.bin", large, {}, {}});
  EXPECT_EQ(b.verdict, Verdict::malicious) << joined(b);
  EXPECT_TRUE(has_reason(b, "yara: Sandbox_Marker")) << joined(b);
  auto c = pool.analyze({"clean.bin", std::string(3u << 20, 'x'), {}, {}});
  EXPECT_FALSE(has_reason(c, "yara: Sandbox_Marker")) << joined(c);
  std::filesystem::remove_all(dir);
}

TEST(Sandbox, FiftyMegabyteAttachmentGetsAVerdictInBoundedTime) {
  auto st = settings();
  st.deadline = std::chrono::milliseconds(20000);
  WorkerPool pool(st);
  std::string big(50u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto start = std::chrono::steady_clock::now();
  auto a = pool.analyze({"big.bin", std::move(big), {}, {}});
  EXPECT_NE(a.verdict, Verdict::scan_error) << joined(a);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(SandboxIpc, RoundTripAndMalformedFrames) {
  AnalysisRequest r{"a.zip", std::string("\0\1PK", 4), {"pw1", "pw2"}, {}};
  r.limits.max_files = 7;
  auto decoded = ipc::decode_request(ipc::encode_request(r));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->name, "a.zip");
  EXPECT_EQ(decoded->content, r.content);
  EXPECT_EQ(decoded->passwords.size(), 2u);
  EXPECT_EQ(decoded->limits.max_files, 7u);
  // Content attached (memfd): the frame names its length; without the bytes it is malformed.
  std::string attached_frame = ipc::encode_request_attached(r);
  EXPECT_EQ(attached_frame.find(r.content), std::string::npos);
  auto with = ipc::decode_request(attached_frame, std::string_view(r.content + "trailing page bytes"));
  ASSERT_TRUE(with);
  EXPECT_EQ(with->content, r.content);
  EXPECT_FALSE(ipc::decode_request(attached_frame));
  EXPECT_FALSE(ipc::decode_request(attached_frame, std::string_view(r.content).substr(0, 2)));
  Analysis a;
  a.flag(Verdict::malicious, "pdf: /Launch action");
  a.ran("pdf");
  a.scan_incomplete = true;
  a.text = "Project Nightjar\nfigures";
  auto back = ipc::decode_response(ipc::encode_response(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->text, a.text);
  EXPECT_EQ(back->verdict, Verdict::malicious);
  EXPECT_EQ(back->reasons, a.reasons);
  EXPECT_TRUE(back->scan_incomplete);
  std::string payload = ipc::encode_response(a);
  EXPECT_FALSE(ipc::decode_response(payload.substr(0, payload.size() - 1)));
  auto f = ipc::frame("xyz");
  auto partial = ipc::unframe(f.substr(0, 5));
  ASSERT_TRUE(partial);
  EXPECT_FALSE(*partial);
  auto whole = ipc::unframe(f);
  ASSERT_TRUE(whole && *whole);
  EXPECT_EQ((*whole)->payload, "xyz");
  EXPECT_FALSE(ipc::unframe(std::string("\xff\xff\xff\xff", 4)));
}

}  // namespace
}  // namespace mailmoat::attachments::sandbox

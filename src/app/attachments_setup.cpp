#include "app/attachments_setup.h"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/attachments_dynamic.h"
#include "app/attachments_queue.h"
#include "app/links_setup.h"
#include "attachments/cape.h"
#include "attachments/clamd.h"
#include "attachments/sandbox/pool.h"
#include "attachments/yara_rules.h"
#include "log/log.h"
#include "util/strings.h"

namespace mailmoat::app {
namespace {

std::string self_path() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("/proc/self/exe");
}

class Runtime : public AttachmentsRuntime {
 public:
  Runtime(const Config& cfg, std::string yara_file, std::shared_ptr<const links::AttachmentLinkSigner> signer)
      : signer_(std::move(signer)), threads_(static_cast<std::size_t>(cfg.attachments.workers)) {
    if (signer_) {
      dynamic_ = std::make_shared<DynamicStore>(cfg.server.data_dir + "/attachments/dynamic");
      start_sweeper(std::chrono::days(cfg.attachments.dynamic_retention_days));
    }
    attachments::sandbox::SandboxSettings st;
    st.binary = self_path();
    st.workers = static_cast<std::size_t>(cfg.attachments.workers);
    st.max_jobs = static_cast<std::size_t>(cfg.attachments.worker_max_jobs);
    st.deadline = std::chrono::milliseconds(cfg.attachments.worker_timeout_ms);
    st.memory_mb = static_cast<std::uint64_t>(cfg.attachments.worker_memory_mb);
    st.cpu_seconds = static_cast<unsigned>(cfg.attachments.worker_cpu_seconds);
    st.yara_file = std::move(yara_file);
    pool_ = std::make_shared<attachments::sandbox::WorkerPool>(st);
    if (!cfg.attachments.clamd.empty()) clamd_ = std::make_shared<attachments::ClamdClient>(cfg.attachments.clamd);
    filters::AttachmentServices services;
    services.analyze = [pool = pool_](const attachments::AnalysisRequest& r, std::chrono::milliseconds d) {
      return pool->analyze(r, d);
    };
    if (clamd_)
      services.antivirus = [clamd = clamd_](std::string_view content, std::chrono::milliseconds d) {
        return clamd->scan(content, d);
      };
    services.run = [this](std::move_only_function<void()> work) {
      auto shared = std::make_shared<std::move_only_function<void()>>(std::move(work));
      boost::asio::post(threads_, [shared] { (*shared)(); });
    };
    services.copy = [this](const pipeline::MessageContext& ctx, const std::string& to, const std::string& reason) {
      if (!queue_) return std::string("no queue");
      auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      return queue_copy(*queue_, copy_from_, to, monitor_copy_message(ctx.message, ctx.queue_id, copy_from_, to, reason, now.count()),
                        "monitor copy of " + ctx.queue_id + ": " + reason);
    };
    if (!cfg.attachments.cape.empty()) {
      attachments::CapeSettings cs;
      cs.address = cfg.attachments.cape;
      cs.token = cfg.attachments.cape_token;
      cs.poll_interval = std::chrono::milliseconds(cfg.attachments.cape_poll_ms);
      cs.malicious_score = static_cast<double>(cfg.attachments.cape_malicious_score);
      cs.suspicious_score = static_cast<double>(cfg.attachments.cape_suspicious_score);
      auto cape = std::make_shared<attachments::CapeClient>(cs);
      services.dynamic_sandbox = [cape](std::string_view name, std::string_view content, std::chrono::milliseconds b) {
        return cape->analyze(name, content, b);
      };
    }
    services.new_queue_id = [this] { return queue_ ? queue_->next_queue_id() : std::string(); };
    services.queue_split = [this](const pipeline::MessageContext& copy, const pipeline::Verdict& v) {
      return queue_ ? queue_split_copy(*queue_, copy, v, tail_.get()) : std::string("no queue");
    };
    if (signer_) {
      services.hold_original = [this](const pipeline::MessageContext& ctx, const std::string& original, std::string& error) {
        if (!queue_) {
          error = "no queue";
          return std::string();
        }
        return hold_dynamic_original(*queue_, ctx, original, error, tail_.get());
      };
      services.attachment_link = [signer = signer_](const std::string& id, std::size_t part) {
        return signer->link(id, std::to_string(part));
      };
    }
    filter_ = std::make_shared<filters::AttachmentFilter>(attachments_config(cfg), std::move(services));
    log::info("attachments.ready", {{"workers", st.workers}, {"clamd", cfg.attachments.clamd.empty() ? "off" : cfg.attachments.clamd},
                                    {"cape", cfg.attachments.cape.empty() ? "off" : cfg.attachments.cape},
                                    {"policies", cfg.attachments.policies.size()}});
  }
  ~Runtime() override {
    threads_.join();
    holds_.reset();
  }
  std::shared_ptr<filters::AttachmentFilter> filter() override { return filter_; }
  void connect_queue(queue::QueueManager& queue, const std::string& hostname) override {
    queue_ = &queue;
    copy_from_ = "postmaster@" + hostname;
    holds_ = std::make_shared<AttachmentHolds>(
        queue, *filter_,
        [this](std::move_only_function<void()> work) {
          auto shared = std::make_shared<std::move_only_function<void()>>(std::move(work));
          boost::asio::post(threads_, [shared] { (*shared)(); });
        },
        dynamic_);
    // The queue outlives this runtime in serve(): late events find it gone.
    queue.on_event([weak = std::weak_ptr<AttachmentHolds>(holds_)](const queue::QueueEvent& e) {
      if (auto holds = weak.lock()) holds->on_event(e);
    });
    holds_->resume();
  }
  void add_routes(http::Router& router) override {
    if (signer_ && queue_) add_attachment_link_routes(router, signer_, dynamic_, *queue_);
  }
  void set_tail(std::shared_ptr<pipeline::FilterChain> tail) override { tail_ = std::move(tail); }

  // Dynamic Delivery's records expire after dynamic_retention_days: swept at
  // start and every hour, on a thread of its own (file system work only).
  void start_sweeper(std::chrono::days retention) {
    sweeper_ = std::jthread([store = dynamic_, retention](const std::stop_token& stop) {
      std::mutex mu;
      std::condition_variable_any wake;
      while (!stop.stop_requested()) {
        const auto cutoff = std::filesystem::file_time_type::clock::now() - retention;
        if (std::size_t n = store->expire(cutoff); n > 0)
          log::info("attachments.dynamic_expired", {{"originals", n}, {"directory", store->directory()},
                                                    {"retention_days", retention.count()}});
        std::unique_lock lock(mu);
        wake.wait_for(lock, stop, std::chrono::hours(1), [] { return false; });
      }
    });
  }

 private:
  std::shared_ptr<const links::AttachmentLinkSigner> signer_;
  std::shared_ptr<DynamicStore> dynamic_;
  queue::QueueManager* queue_ = nullptr;
  std::string copy_from_;
  std::shared_ptr<AttachmentHolds> holds_;
  std::shared_ptr<pipeline::FilterChain> tail_;
  boost::asio::thread_pool threads_;
  std::shared_ptr<attachments::sandbox::WorkerPool> pool_;
  std::shared_ptr<attachments::ClamdClient> clamd_;
  std::shared_ptr<filters::AttachmentFilter> filter_;
  std::jthread sweeper_;  // last: stopped and joined first
};

}  // namespace

filters::AttachmentsConfig attachments_config(const Config& cfg) {
  const auto& a = cfg.attachments;
  filters::AttachmentsConfig out;
  for (const auto& h : a.block_sha256) out.triage.block_sha256.insert(util::to_lower(h));
  for (const auto& h : a.allow_sha256) out.triage.allow_sha256.insert(util::to_lower(h));
  for (const auto& t : a.banned_types) out.triage.banned_types.insert(util::to_lower(t));
  for (const auto& e : a.banned_extensions) {
    std::string ext = util::to_lower(e);
    if (!ext.empty() && ext.front() == '.') ext.erase(0, 1);
    out.triage.banned_extensions.insert(ext);
  }
  out.block_suspicious = a.block_at == "suspicious";
  out.cache_entries = static_cast<std::size_t>(a.cache_entries);
  out.fast_path = std::chrono::milliseconds(a.fast_path_ms);
  out.dynamic_budget = std::chrono::milliseconds(a.cape_budget_ms);
  out.limits.max_depth = static_cast<std::size_t>(a.max_archive_depth);
  out.limits.max_files = static_cast<std::size_t>(a.max_archive_files);
  out.limits.max_bytes = static_cast<std::uint64_t>(a.max_archive_bytes);
  out.limits.max_ratio = static_cast<std::uint64_t>(a.max_archive_ratio);
  for (const auto& p : a.policies) {
    filters::AttachmentPolicy fp;
    fp.name = p.name;
    fp.priority = static_cast<int>(p.priority);
    fp.recipient_domains.clear();
    for (const auto& d : p.recipient_domains) fp.recipient_domains.push_back(util::to_lower(d));
    for (const auto& r : p.recipients) fp.recipients.push_back(util::to_lower(r));
    fp.action = p.action == "off"                ? filters::AttachmentAction::off
                : p.action == "monitor"          ? filters::AttachmentAction::monitor
                : p.action == "replace"          ? filters::AttachmentAction::replace
                : p.action == "dynamic_delivery" ? filters::AttachmentAction::dynamic_delivery
                                                 : filters::AttachmentAction::block;
    fp.budget = std::chrono::milliseconds(p.budget_ms);
    fp.block_on_timeout = p.on_timeout == "block";
    fp.block_on_error = p.on_error == "block";
    fp.analyze_internal = p.analyze_internal;
    fp.copy_to = p.copy_to;
    fp.deliver_original = p.deliver_original;
    out.policies.push_back(std::move(fp));
  }
  return out;
}

util::Result<std::unique_ptr<AttachmentsRuntime>> make_attachments(const Config& cfg) {
  if (!cfg.attachments.enabled) return std::unique_ptr<AttachmentsRuntime>();
  // replace decides within the SMTP session: a budget the session's filter budget
  // does not cover ends in 451 before on_timeout can act (docs/decisions.md).
  for (const auto& p : cfg.attachments.policies)
    if (p.action == "replace" && p.budget_ms >= cfg.smtp.filter_budget_ms)
      log::warn("attachments.replace_budget",
                {{"policy", p.name}, {"budget_ms", p.budget_ms}, {"smtp_filter_budget_ms", cfg.smtp.filter_budget_ms},
                 {"effect", "messages whose analysis outlasts smtp.filter_budget_ms get 451 (the client retries)"}});
  std::string yara_file;
  if (!cfg.attachments.yara_rules_dir.empty()) {
    // Compiled once here; workers load the compiled file (no compiler in the sandbox).
    auto rules = attachments::YaraRules::compile_dir(cfg.attachments.yara_rules_dir);
    if (!rules) return util::fail(rules.error().message);
    yara_file = cfg.server.data_dir + "/yara-rules.compiled";
    if (auto saved = (*rules)->save(yara_file); !saved) return util::fail(saved.error().message);
    log::info("attachments.yara", {{"files", (*rules)->files()}, {"compiled", yara_file}});
  }
  // Dynamic Delivery's placeholder links are signed with the Safe Links keys.
  std::shared_ptr<const links::AttachmentLinkSigner> signer;
  bool dynamic = false;
  for (const auto& p : cfg.attachments.policies) dynamic |= p.action == "dynamic_delivery";
  if (dynamic) {
    auto keys = link_keys(cfg);
    auto url = keys ? links_public_url(cfg) : util::Result<std::string>(util::fail(keys.error().message));
    auto made = url ? links::AttachmentLinkSigner::create(*url, *keys)
                    : util::Result<links::AttachmentLinkSigner>(util::fail(url.error().message));
    if (!made) return util::fail("attachments: dynamic_delivery needs signed links: " + made.error().message);
    signer = std::make_shared<const links::AttachmentLinkSigner>(std::move(*made));
  }
  return std::unique_ptr<AttachmentsRuntime>(std::make_unique<Runtime>(cfg, std::move(yara_file), std::move(signer)));
}

}  // namespace mailmoat::app

#include "run_metrics.h"

#include <spdlog/spdlog.h>

#include "remotecode/controllers/trainingjob_render.h"

namespace rc::controllers::trainingjob {

using nlohmann::json;

namespace {

// Enough lines for the last value of every metric a training loop prints at a sane rate; the
// status keeps earlier values of metrics that scroll out of this window.
constexpr int64_t kLogTailLines = 10000;
// A finished run's log that cannot be read after this many tries is given up on: the status
// keeps the metrics of the last successful read.
constexpr int kMaxFinalReadFailures = 5;

}  // namespace

RunMetricsReader::RunMetricsReader(std::shared_ptr<kube::Client> client,
                                   std::shared_ptr<runtime::Informer> pods,
                                   std::chrono::seconds poll_interval)
    : client_(std::move(client)), pods_(std::move(pods)), poll_interval_(poll_interval) {}

runtime::ObjectPtr RunMetricsReader::rank0_pod(const json& job) const {
  const json& md = job.at("metadata");
  const std::string job_name = md.value("name", "");
  runtime::ObjectPtr newest;
  std::string newest_created;
  for (const auto& pod : pods_->store().list_namespace(md.value("namespace", ""))) {
    const json labels = (*pod).at("metadata").value("labels", json::object());
    if (labels.value("job-name", "") != job_name) continue;
    std::string index = labels.value(kCompletionIndexAnnotation, "0");
    if (index != "0") continue;
    // Of several attempts (retries), the latest pod tells the current story.
    std::string created = (*pod).at("metadata").value("creationTimestamp", "");
    if (!newest || created >= newest_created) {
      newest = pod;
      newest_created = created;
    }
  }
  return newest;
}

std::optional<MetricSummary> RunMetricsReader::read_if_due(const std::string& trainingjob_key,
                                                           const json& job, bool finished) {
  const std::string uid = job.at("metadata").value("uid", "");
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu_);
    ReadState& st = runs_[trainingjob_key][uid];
    if (st.final_read) return st.final_summary;
    if (!finished && st.last_read != std::chrono::steady_clock::time_point{} &&
        now - st.last_read < poll_interval_)
      return std::nullopt;
    st.last_read = now;
  }
  auto pod = rank0_pod(job);
  if (!pod) {
    // A finished run whose pods were deleted has no log left to read.
    if (finished) {
      std::lock_guard lk(mu_);
      runs_[trainingjob_key][uid].final_read = true;
    }
    return std::nullopt;
  }
  const json& md = (*pod).at("metadata");
  try {
    std::string log = client_->logs(md.value("namespace", ""), md.value("name", ""), kContainerName,
                                    kLogTailLines);
    MetricSummary summary = summarize_metrics(parse_metric_lines(log));
    if (finished) {
      std::lock_guard lk(mu_);
      ReadState& st = runs_[trainingjob_key][uid];
      st.final_read = true;
      st.final_summary = summary;
    }
    return summary;
  } catch (const std::exception& e) {
    // A container that has not started has no log yet; the next poll tries again.
    spdlog::debug("trainingjob {}: reading the log of {}: {}", trainingjob_key,
                  md.value("name", ""), e.what());
    if (finished) {
      std::lock_guard lk(mu_);
      ReadState& st = runs_[trainingjob_key][uid];
      if (++st.final_failures >= kMaxFinalReadFailures) st.final_read = true;
    }
    return std::nullopt;
  }
}

bool RunMetricsReader::final_read_pending(const std::string& trainingjob_key) {
  std::lock_guard lk(mu_);
  auto it = runs_.find(trainingjob_key);
  if (it == runs_.end()) return false;
  for (const auto& [uid, st] : it->second)
    if (!st.final_read && st.final_failures > 0) return true;
  return false;
}

void RunMetricsReader::forget(const std::string& trainingjob_key) {
  std::lock_guard lk(mu_);
  runs_.erase(trainingjob_key);
}

}  // namespace rc::controllers::trainingjob

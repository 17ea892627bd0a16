// Reading metric lines from a run's rank-0 pod log: every metrics_poll_seconds while the run
// runs, and once more after it finished. The only API reads a reconcile makes outside the cache
// (pod logs are not cached); remembered per Job so a burst of pod events reads a log only once.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/controllers/metrics_log.h"
#include "remotecode/kube/client.h"
#include "remotecode/runtime/informer.h"

namespace rc::controllers::trainingjob {

class RunMetricsReader {
 public:
  RunMetricsReader(std::shared_ptr<kube::Client> client, std::shared_ptr<runtime::Informer> pods,
                   std::chrono::seconds poll_interval);

  // The metrics of `job`'s log when a read is due (and succeeded), else nullopt. Once a finished
  // run's log has been read, every later call returns that same summary without reading again,
  // so a status update that failed (409, 500) loses nothing on the next reconcile.
  std::optional<MetricSummary> read_if_due(const std::string& trainingjob_key,
                                           const nlohmann::json& job, bool finished);
  // Whether a finished run's last read failed and should be tried again (a few times at most).
  bool final_read_pending(const std::string& trainingjob_key);
  // Drops what is remembered about a TrainingJob's runs (it is gone).
  void forget(const std::string& trainingjob_key);

 private:
  struct ReadState {
    std::chrono::steady_clock::time_point last_read{};
    bool final_read = false;  // the finished run's log was read (or its pod is gone)
    std::optional<MetricSummary> final_summary;
    int final_failures = 0;
  };
  runtime::ObjectPtr rank0_pod(const nlohmann::json& job) const;

  std::shared_ptr<kube::Client> client_;
  std::shared_ptr<runtime::Informer> pods_;
  std::chrono::seconds poll_interval_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, ReadState>> runs_;  // tj key -> job uid -> state
};

}  // namespace rc::controllers::trainingjob

// What the training-job queue decides from: every waiting run and what holds GPUs, gathered from
// the informer caches plus a ledger of admissions the cache has not shown yet (the cache lags
// behind our own writes; without the ledger one pass could admit a run and the next, still seeing
// it suspended, admit another into the same quota). Pure: the caller passes the cached objects.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/controllers/admission.h"
#include "remotecode/runtime/informer.h"

namespace rc::controllers::trainingjob {

// A Job the queue admitted (patched to suspend=false) that the cache may still show suspended.
struct LedgerEntry {
  std::string ns;
  int64_t gpus = 0;
  std::string resource_version;  // of the Job our patch returned
  std::chrono::steady_clock::time_point admitted;
};
using Ledger = std::map<std::string, LedgerEntry>;  // "namespace/job" -> entry

// An entry is forgotten when the cache has caught up with the patch (it shows the Job
// unsuspended, or a resourceVersion at least as new), the Job is gone or finished, or after this
// long (a safety net should a watch event be lost).
inline constexpr std::chrono::seconds kLedgerTimeout{120};

struct QueueInputs {
  std::vector<WaitingRun> waiting;
  QueueState state;
};

struct ClusterView {
  std::vector<runtime::ObjectPtr> jobs;         // every Job (ours are picked by owner)
  std::vector<runtime::ObjectPtr> deployments;  // workspace Deployments hold GPUs too
  std::vector<runtime::ObjectPtr> quotas;
  std::vector<runtime::ObjectPtr> nodes;
  // The TrainingJob of a "namespace/name" key, or null.
  std::function<runtime::ObjectPtr(const std::string&)> trainingjob;
};

// Builds the queue's inputs and prunes `ledger` (see above). A run waits when its Job is
// suspended and its TrainingJob exists, is not being deleted, not stopped and not finished.
QueueInputs gather_queue(const ClusterView& cluster, Ledger& ledger, int max_running_runs,
                         std::chrono::steady_clock::time_point now);

// nvidia.com/gpu limits (or requests) of one pod template's containers, summed.
int64_t pod_template_gpus(const nlohmann::json& pod_template);
// GPUs a Job holds while it runs: per pod times parallelism.
int64_t job_gpus(const nlohmann::json& job);

}  // namespace rc::controllers::trainingjob

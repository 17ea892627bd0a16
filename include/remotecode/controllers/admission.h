// The training-job queue as a pure function: given every waiting run and what is in use, which
// runs to admit now (priority, then creation time, then run index), each waiting run's position,
// and the runs that can never fit (more GPUs than the namespace's quota or than any node has).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::controllers {

struct WaitingRun {
  std::string key;  // "namespace/job-name" of the suspended Job
  std::string ns;
  std::string owner;     // "namespace/trainingjob-name"
  int64_t priority = 0;  // higher first
  std::string created;   // the TrainingJob's creationTimestamp (RFC 3339 sorts as text)
  int index = 0;         // the run's index within its TrainingJob
  int64_t gpus_per_worker = 0;
  int64_t workers = 1;
  int64_t gpus() const { return gpus_per_worker * workers; }
};

struct QueueState {
  // GPUs held by admitted, unfinished runs and running workspaces, per namespace.
  std::map<std::string, int64_t> gpus_in_use;
  // hard nvidia.com/gpu quota per namespace (requests.nvidia.com/gpu or limits.nvidia.com/gpu);
  // absent: no quota.
  std::map<std::string, int64_t> gpu_quota;
  int running_runs = 0;      // admitted, unfinished runs in the whole cluster
  int max_running_runs = 0;  // --max-running-jobs; 0 is unlimited
  // The most GPUs any one node can hold (allocatable); nullopt when no node is known.
  std::optional<int64_t> max_gpus_per_node;
};

struct AdmissionDecision {
  std::vector<std::string> admit;                 // keys to unsuspend now, in order
  std::map<std::string, int> position;            // waiting key -> 1-based place in the queue
  std::map<std::string, std::string> never_fits;  // key -> why, worded for the user
};

AdmissionDecision decide_admission(std::vector<WaitingRun> waiting, const QueueState& state);

}  // namespace rc::controllers

// The training-job queue (see admission.h).
//
// Order: priority (higher first), then the TrainingJob's creation time (older first), then the
// owner's name, then the run index; the key breaks any remaining tie so the order is total.
//
// Walking the queue in that order:
// - A run that can never fit (more GPUs than its namespace's quota, or more GPUs per worker than
//   the largest node) is reported in never_fits: it is neither admitted, nor given a position,
//   nor allowed to block anything.
// - The cluster-wide limit (max_running_runs > 0) is a count: once running + admitted-now reaches
//   it, nothing more is admitted in this pass.
// - The namespace quota blocks head of line, per namespace: when a run does not fit in what is
//   left of its namespace's quota, no later GPU run of that namespace is admitted in this pass,
//   even a smaller one. Otherwise a stream of small jobs could starve a big, higher-priority one
//   for ever. Other namespaces are not affected: their quotas are independent.
// - Runs that need no GPU only count against the cluster-wide limit; they are never blocked by
//   (nor do they block) a namespace's GPU queue.
// Every run left waiting gets its 1-based position in the cluster-wide order.
#include <algorithm>
#include <set>
#include <tuple>

#include "remotecode/controllers/admission.h"

namespace rc::controllers {
namespace {

bool queue_before(const WaitingRun& a, const WaitingRun& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return std::tie(a.created, a.owner, a.index, a.key) <
         std::tie(b.created, b.owner, b.index, b.key);
}

std::string plural(int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Why `run` can never be admitted, or "" when it could be some day.
std::string never_fit_reason(const WaitingRun& run, const QueueState& state) {
  if (run.gpus() <= 0) return "";
  if (auto q = state.gpu_quota.find(run.ns); q != state.gpu_quota.end() && run.gpus() > q->second) {
    std::string need = "needs " + plural(run.gpus(), "GPU");
    if (run.workers > 1)
      need +=
          " (" + plural(run.workers, "worker") + " x " + std::to_string(run.gpus_per_worker) + ")";
    return need + " but the namespace quota allows " + std::to_string(q->second) +
           ": ask an admin to raise requests.nvidia.com/gpu or lower workers/gpus";
  }
  if (state.max_gpus_per_node && run.gpus_per_worker > *state.max_gpus_per_node)
    return "each worker needs " + plural(run.gpus_per_worker, "GPU") +
           " but the largest node has " + std::to_string(*state.max_gpus_per_node) +
           ": lower gpus per worker and use more workers instead";
  return "";
}

}  // namespace

AdmissionDecision decide_admission(std::vector<WaitingRun> waiting, const QueueState& state) {
  std::sort(waiting.begin(), waiting.end(), queue_before);

  AdmissionDecision d;
  std::map<std::string, int64_t> admitted_gpus;  // per namespace, in this pass
  std::set<std::string> blocked;                 // namespaces whose queue head did not fit
  int running = state.running_runs;
  std::vector<const WaitingRun*> left;

  for (const WaitingRun& run : waiting) {
    if (std::string why = never_fit_reason(run, state); !why.empty()) {
      d.never_fits[run.key] = std::move(why);
      continue;
    }
    bool cluster_full = state.max_running_runs > 0 && running >= state.max_running_runs;
    bool fits = !cluster_full;
    if (fits && run.gpus() > 0) {
      if (blocked.count(run.ns)) {
        fits = false;
      } else if (auto q = state.gpu_quota.find(run.ns); q != state.gpu_quota.end()) {
        auto used = state.gpus_in_use.find(run.ns);
        int64_t in_use = used == state.gpus_in_use.end() ? 0 : used->second;
        if (in_use + admitted_gpus[run.ns] + run.gpus() > q->second) {
          fits = false;
          blocked.insert(run.ns);
        }
      }
    }
    if (fits) {
      d.admit.push_back(run.key);
      admitted_gpus[run.ns] += run.gpus();
      ++running;
    } else {
      left.push_back(&run);
    }
  }

  int place = 0;
  for (const WaitingRun* run : left) d.position[run->key] = ++place;
  return d;
}

}  // namespace rc::controllers

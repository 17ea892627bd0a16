// A TrainingJob's status as a pure function of its Jobs (from the cache), the queue's last
// decision, freshly read metrics and the previous status: phase, runs[], times, GPU-seconds,
// conditions. The reconcile writes the result only when it differs.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/metrics_log.h"
#include "remotecode/util/clock.h"

namespace rc::controllers::trainingjob {

// Phases of the TrainingJob and of each run.
inline constexpr const char* kQueued = "Queued";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kFailed = "Failed";
inline constexpr const char* kStopped = "Stopped";

// Condition types and reasons.
inline constexpr const char* kValidCondition = "Valid";
inline constexpr const char* kResolvedCondition = "Resolved";  // template image, source volume
inline constexpr const char* kAdmittedCondition = "Admitted";
inline constexpr const char* kNeverFitsReason = "NeverFits";

// What the reconcile knows about one run.
struct RunView {
  api::SweepRun run;
  std::string job_name;
  const nlohmann::json* job = nullptr;   // the cached Job; null until it is created
  std::optional<int> queue_position;     // while waiting, from the queue's last decision
  std::string never_fits;                // why it can never be admitted; "" when it can
  std::optional<MetricSummary> metrics;  // read from its rank-0 log this time; merged over the
                                         // previous values
};

struct StatusInput {
  const nlohmann::json* trainingjob = nullptr;  // the cached object: generation, previous status
  const api::TrainingJobSpec* spec = nullptr;
  int64_t gpus_per_run = 0;  // GPUs per worker times workers
  std::vector<RunView> runs;
  // A False Resolved condition when the template's image or the source volume is missing (no
  // Job is created meanwhile); nullopt when everything was found.
  std::optional<Condition> unresolved;
  util::SystemTime now;
};

// A run's phase from its Job: none or suspended -> Queued (Stopped when the TrainingJob is
// suspended), Complete -> Succeeded, Failed -> Failed, otherwise Running.
std::string run_phase(const nlohmann::json* job, bool trainingjob_suspended);
bool job_finished(const nlohmann::json& job);
bool is_terminal_phase(const std::string& phase);  // Succeeded or Failed

// The whole new status (conditions Valid, Resolved and Admitted included).
//  - Failed with Admitted=False/NeverFits when a run can never fit (kept for this generation);
//  - once every run has finished: Succeeded when all succeeded, else Failed (the other runs of
//    a sweep are not cut short by one failing combination);
//  - Stopped while spec.suspend is true; Running while any run runs; Queued otherwise.
// gpuSeconds sums (end - start) * GPUs over the runs, running runs in whole minutes so the
// status is not rewritten on every reconcile, and never decreases.
nlohmann::json compute_status(const StatusInput& in);

// When the TrainingJob should be deleted (completionTime + ttlSecondsAfterFinished), or nullopt.
std::optional<util::SystemTime> ttl_expiry(const nlohmann::json& status,
                                           const api::TrainingJobSpec& spec);

}  // namespace rc::controllers::trainingjob

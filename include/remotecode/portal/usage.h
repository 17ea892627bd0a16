// GPU usage from the objects' status: GPUs in use now and GPU-hours over trailing windows.
// Pure functions of the objects and the clock, so they are tested without a cluster.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "remotecode/util/clock.h"

namespace rc::portal {

struct GpuUsage {
  double gpus_in_use = 0;
  double hours_day = 0, hours_week = 0, hours_month = 0;  // trailing 24 h, 7 d, 30 d
};

// `gpus_per_worker(job)` gives the GPUs one worker of a TrainingJob asks for.
struct UsageInput {
  std::vector<nlohmann::json> workspaces;
  std::vector<nlohmann::json> jobs;
  std::vector<double> job_gpus_per_worker;  // parallel to `jobs`
};

GpuUsage compute_usage(const UsageInput& in, util::SystemTime now);

}  // namespace rc::portal

#include "remotecode/portal/usage.h"

#include <algorithm>

namespace rc::portal {

using nlohmann::json;
using std::chrono::hours;

namespace {

std::optional<util::SystemTime> time_field(const json& obj, const char* key) {
  if (!obj.contains(key) || !obj[key].is_string()) return std::nullopt;
  return util::parse_rfc3339(obj[key].get<std::string>());
}

// Adds gpus x the part of [start, end] inside each trailing window, in hours.
void add_interval(GpuUsage& u, util::SystemTime start, util::SystemTime end, double gpus,
                  util::SystemTime now) {
  if (gpus <= 0 || end <= start) return;
  auto overlap_hours = [&](hours window) {
    auto from = std::max(start, now - window);
    auto to = std::min(end, now);
    if (to <= from) return 0.0;
    return std::chrono::duration<double, std::ratio<3600>>(to - from).count();
  };
  u.hours_day += gpus * overlap_hours(hours(24));
  u.hours_week += gpus * overlap_hours(hours(24 * 7));
  u.hours_month += gpus * overlap_hours(hours(24 * 30));
}

}  // namespace

GpuUsage compute_usage(const UsageInput& in, util::SystemTime now) {
  GpuUsage u;
  for (const auto& ws : in.workspaces) {
    json status = ws.value("status", json::object());
    double gpus = status.value("gpus", 0.0);
    if (auto since = time_field(status, "runningSince")) {
      u.gpus_in_use += gpus;
      add_interval(u, *since, now, gpus, now);
    }
    // Closed sessions the controller keeps (start, end, gpus).
    for (const auto& s : status.value("sessions", json::array())) {
      auto start = time_field(s, "start");
      auto end = time_field(s, "end");
      if (start && end) add_interval(u, *start, *end, s.value("gpus", 0.0), now);
    }
  }
  for (size_t i = 0; i < in.jobs.size(); ++i) {
    const json& job = in.jobs[i];
    double per_worker = i < in.job_gpus_per_worker.size() ? in.job_gpus_per_worker[i] : 0;
    double gpus = per_worker * job.value("spec", json::object()).value("workers", 1.0);
    for (const auto& run : job.value("status", json::object()).value("runs", json::array())) {
      auto start = time_field(run, "startTime");
      if (!start) continue;
      auto end = time_field(run, "completionTime");
      if (!end && run.value("phase", "") == "Running") u.gpus_in_use += gpus;
      // A stopped run without a completion time: charged up to now would grow forever.
      if (!end && run.value("phase", "") != "Running") continue;
      add_interval(u, *start, end.value_or(now), gpus, now);
    }
  }
  return u;
}

}  // namespace rc::portal

// GPU usage from status: what the usage page shows for GPUs in use and GPU-hours.
#include <gtest/gtest.h>

#include "remotecode/portal/usage.h"

namespace rc::portal {
namespace {

using nlohmann::json;

util::SystemTime at(const std::string& s) {
  return *util::parse_rfc3339(s);
}

const auto kNow = at("2026-11-23T12:00:00Z");

TEST(Usage, RunningWorkspaceCountsNowAndSinceItStarted) {
  UsageInput in;
  in.workspaces.push_back({{"status", {{"gpus", 2}, {"runningSince", "2026-11-23T09:00:00Z"}}}});
  GpuUsage u = compute_usage(in, kNow);
  EXPECT_DOUBLE_EQ(u.gpus_in_use, 2);
  EXPECT_DOUBLE_EQ(u.hours_day, 6);
  EXPECT_DOUBLE_EQ(u.hours_week, 6);
}

TEST(Usage, ClosedSessionsCountOnlyInsideEachWindow) {
  UsageInput in;
  in.workspaces.push_back(json::parse(R"({"status": {"gpus": 1, "sessions": [
      {"start": "2026-11-22T10:00:00Z", "end": "2026-11-22T14:00:00Z", "gpus": 1},
      {"start": "2026-11-20T00:00:00Z", "end": "2026-11-20T05:00:00Z", "gpus": 2},
      {"start": "2026-10-01T00:00:00Z", "end": "2026-10-01T01:00:00Z", "gpus": 8}]}})"));
  GpuUsage u = compute_usage(in, kNow);
  EXPECT_DOUBLE_EQ(u.gpus_in_use, 0);
  EXPECT_DOUBLE_EQ(u.hours_day, 2);         // 12:00-14:00 yesterday is inside the last 24 h
  EXPECT_DOUBLE_EQ(u.hours_week, 4 + 10);   // plus 5 h x 2 GPUs three days ago
  EXPECT_DOUBLE_EQ(u.hours_month, 4 + 10);  // October 1st is more than 30 days back
}

TEST(Usage, JobRunsCountGpusTimesWorkers) {
  UsageInput in;
  in.jobs.push_back(json::parse(R"({"spec": {"workers": 2}, "status": {"runs": [
      {"phase": "Succeeded", "startTime": "2026-11-23T10:00:00Z",
       "completionTime": "2026-11-23T11:00:00Z"},
      {"phase": "Running", "startTime": "2026-11-23T11:30:00Z"},
      {"phase": "Queued"},
      {"phase": "Stopped", "startTime": "2026-11-23T08:00:00Z"}]}})"));
  in.job_gpus_per_worker.push_back(4);
  GpuUsage u = compute_usage(in, kNow);
  EXPECT_DOUBLE_EQ(u.gpus_in_use, 8);
  EXPECT_DOUBLE_EQ(u.hours_day, 8 * 1 + 8 * 0.5);
}

TEST(Usage, NothingRunningIsZero) {
  EXPECT_DOUBLE_EQ(compute_usage({}, kNow).hours_month, 0);
  UsageInput in;
  in.workspaces.push_back({{"status", {{"gpus", 4}, {"phase", "Stopped"}}}});
  EXPECT_DOUBLE_EQ(compute_usage(in, kNow).gpus_in_use, 0);
}

}  // namespace
}  // namespace rc::portal

// GPU-seconds accounting and the idle-timeout decision: pure functions of the clock passed in.
#include <algorithm>

#include "remotecode/controllers/workspace_status.h"

namespace rc::controllers::workspace {

using nlohmann::json;
using std::chrono::seconds;

namespace {

// Whole seconds: status times are written at that precision, so keeping more here would make
// the same instant compare differently after a round trip through the API.
util::SystemTime to_seconds(util::SystemTime t) {
  return std::chrono::time_point_cast<seconds>(t);
}

}  // namespace

GpuTime account_gpu_time(const json& previous_status, bool pod_running, int64_t gpus,
                         util::SystemTime now) {
  const json prev = previous_status.is_object() ? previous_status : json::object();
  GpuTime out;
  out.gpu_seconds = prev.value("gpuSeconds", int64_t{0});
  std::optional<util::SystemTime> since;
  if (prev.contains("runningSince") && prev["runningSince"].is_string())
    since = util::parse_rfc3339(prev["runningSince"].get<std::string>());
  int64_t previous_gpus = prev.value("gpus", int64_t{0});
  now = to_seconds(now);

  // Close the interval when the pod stopped running, or when it now runs with another count of
  // GPUs (a rollout after a spec change): each interval is charged at the count it ran with.
  if (since && (!pod_running || gpus != previous_gpus)) {
    auto elapsed = std::chrono::duration_cast<seconds>(now - *since).count();
    out.gpu_seconds += std::max<int64_t>(elapsed, 0) * previous_gpus;
    if (elapsed > 0 && previous_gpus > 0) out.closed = GpuSession{*since, now, previous_gpus};
    since.reset();
  }
  if (pod_running) out.running_since = since ? *since : now;
  return out;
}

IdleDecision decide_idle(int64_t timeout_minutes, bool running,
                         std::optional<util::SystemTime> last_activity,
                         std::optional<util::SystemTime> running_since, util::SystemTime now) {
  IdleDecision d;
  // The clock runs only while a pod runs: a workspace that is (re)starting is never idle, or
  // an old last request would stop it again before anyone could use it.
  if (timeout_minutes <= 0 || !running || !running_since) return d;
  // A restarted workspace gets a full timeout even if its last request is older than that.
  util::SystemTime since = *running_since;
  if (last_activity && *last_activity > since) since = *last_activity;

  auto timeout = std::chrono::minutes(timeout_minutes);
  auto idle = now - since;
  if (idle >= timeout) {
    d.cull = true;
    d.idle = std::chrono::duration_cast<seconds>(idle);
    return d;
  }
  d.idle = std::chrono::duration_cast<seconds>(std::max(idle, util::SystemTime::duration::zero()));
  auto remaining = std::chrono::ceil<std::chrono::milliseconds>(timeout - idle);
  d.requeue_after = std::max(remaining, std::chrono::milliseconds(1));
  return d;
}

}  // namespace rc::controllers::workspace

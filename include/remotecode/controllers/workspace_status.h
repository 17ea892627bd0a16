// A Workspace's status as pure functions of what the reconcile observed: phase and conditions
// (with the messages a person can act on), GPU-seconds, the idle-timeout decision and the
// Events a status change deserves. `now` is always passed in, so tests set the clock.
#pragma once
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/util/clock.h"

namespace rc::controllers::workspace {

// Written by the portal on the Workspace at every request it forwards (RFC 3339).
inline constexpr const char* kLastActivityAnnotation = "remotecode.dev/last-activity";

// What the workspace's pods say, reduced to what status needs.
struct PodState {
  bool exists = false;         // a pod that is not being deleted
  bool running = false;        // some pod (even one being deleted) is Running: it holds its GPUs
  bool ready = false;          // a pod that is not being deleted is Ready
  std::string unschedulable;   // the scheduler's message when the pod cannot be placed
  std::string waiting_reason;  // a container stuck waiting: ImagePullBackOff, CrashLoopBackOff...
  std::string waiting_message;
  std::string waiting_container;
};
PodState observe_pods(const std::vector<nlohmann::json>& pods);

// Why the workspace cannot have its children (re)written now.
struct Blocker {
  enum class Validity { Valid, Invalid, Unknown };
  std::string phase;    // Pending, Building or Failed
  std::string reason;   // TemplateNotFound, TemplateBuilding, ExceedsTemplateMaximum, ...
  std::string message;  // what is wrong and what to do
  // Invalid: the spec itself must change (condition Valid False). Unknown: it cannot be checked
  // until the template is usable.
  Validity validity = Validity::Unknown;
};

struct StatusInput {
  nlohmann::json previous = nlohmann::json::object();  // the cached status
  int64_t generation = 0;
  util::SystemTime now;
  std::string namespace_name, name;  // for the hints in messages
  std::optional<Blocker> blocker;
  bool running = true;          // spec.running, after any cull
  std::string culled_message;   // set when this reconcile stopped it for idleness
  std::optional<int64_t> gpus;  // effective GPUs, when the template is known
  std::string url;
  std::string image;
  PodState pod;
  std::optional<util::SystemTime> last_activity;
};

nlohmann::json compute_status(const StatusInput& in);

// GPU-seconds: an interval opens when a pod starts running (runningSince) and is added to
// gpuSeconds, at the GPU count it ran with, when no pod runs any more or the count changes.
// A running interval that ended: kept in status.sessions (the newest kMaxSessions) so GPU-hours
// over the last day, week and month can be told from the status alone.
struct GpuSession {
  util::SystemTime start, end;
  int64_t gpus = 0;
};
inline constexpr size_t kMaxSessions = 50;

struct GpuTime {
  int64_t gpu_seconds = 0;
  std::optional<util::SystemTime> running_since;
  std::optional<GpuSession> closed;  // the interval closed by this update, if any
};
GpuTime account_gpu_time(const nlohmann::json& previous_status, bool pod_running, int64_t gpus,
                         util::SystemTime now);

// The idle timeout: idle time counts from the later of the last request and the start of the
// current running interval; without a running pod there is no decision.
struct IdleDecision {
  bool cull = false;
  std::chrono::seconds idle{0};                // how long it has been idle
  std::chrono::milliseconds requeue_after{0};  // when to look again (0: no need)
};
IdleDecision decide_idle(int64_t timeout_minutes, bool running,
                         std::optional<util::SystemTime> last_activity,
                         std::optional<util::SystemTime> running_since, util::SystemTime now);

struct StatusEvent {
  std::string type;  // Normal, Warning
  std::string reason;
  std::string message;
  bool operator==(const StatusEvent&) const = default;
};
// Events for what changed between two statuses: Started, Stopped, InvalidSpec and every new
// problem message of the Ready condition (Unschedulable, ImagePullBackOff, TemplateNotFound...),
// each once per distinct message.
std::vector<StatusEvent> status_events(const nlohmann::json& previous, const nlohmann::json& next);

}  // namespace rc::controllers::workspace

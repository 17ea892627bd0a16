// Phase, conditions and Events of a Workspace from what the reconcile observed.
#include <set>

#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/workspace_render.h"
#include "remotecode/controllers/workspace_status.h"

namespace rc::controllers::workspace {

using nlohmann::json;

namespace {

// Waiting reasons every container passes through on a normal start.
bool is_normal_waiting(const std::string& reason) {
  return reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing";
}

bool is_deleting(const json& pod) {
  return pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp");
}

void note_waiting(const json& statuses, PodState& s) {
  if (!statuses.is_array() || !s.waiting_reason.empty()) return;
  for (const auto& cs : statuses) {
    const json waiting = cs.value("state", json::object()).value("waiting", json::object());
    std::string reason = waiting.value("reason", "");
    if (is_normal_waiting(reason)) continue;
    s.waiting_reason = reason;
    s.waiting_message = waiting.value("message", "");
    s.waiting_container = cs.value("name", "");
    return;
  }
}

void note_conditions(const json& status, PodState& s) {
  const json* scheduled = find_condition(status, "PodScheduled");
  if (scheduled && scheduled->value("status", "") == "False" &&
      scheduled->value("reason", "") == "Unschedulable" && s.unschedulable.empty())
    s.unschedulable = scheduled->value("message", "");
  if (condition_is_true(status, "Ready")) s.ready = true;
}

using Validity = Blocker::Validity;

// The Ready condition while the pod is on its way up: the first problem the pod shows, worded
// with what to do about it.
Condition starting_condition(const StatusInput& in) {
  const PodState& pod = in.pod;
  std::string ns_flag = "-n " + in.namespace_name;
  if (!pod.unschedulable.empty())
    return {"Ready", "False", "Unschedulable",
            "The pod cannot be scheduled: " + pod.unschedulable +
                " Ask for fewer GPUs (spec.resources.gpus) or another GPU model, or wait until "
                "GPUs are free."};
  const std::string& reason = pod.waiting_reason;
  std::string detail = pod.waiting_message.empty() ? "" : " (" + pod.waiting_message + ")";
  if (reason == "ImagePullBackOff" || reason == "ErrImagePull" || reason == "InvalidImageName")
    return {"Ready", "False", reason,
            "The image " + in.image + " cannot be pulled" + detail +
                ". Check the template's image name and that the cluster may pull from its "
                "registry."};
  if (reason == "CrashLoopBackOff")
    return {"Ready", "False", reason,
            "The " + pod.waiting_container + " container keeps exiting" + detail +
                ". See why with: kubectl logs " + ns_flag + " deploy/" + in.name + " -c " +
                pod.waiting_container + " --previous"};
  if (!reason.empty())
    return {"Ready", "False", reason,
            "The " + pod.waiting_container + " container cannot start: " + reason + detail +
                ". kubectl describe pod " + ns_flag + " -l remotecode.dev/name=" + in.name +
                " shows more."};
  if (!pod.exists) return {"Ready", "False", "Starting", "Waiting for the pod to be created."};
  return {"Ready", "False", "Starting", "Waiting for the IDE to start and answer."};
}

Condition stopped_condition(const StatusInput& in) {
  if (!in.culled_message.empty()) return {"Ready", "False", "IdleTimeout", in.culled_message};
  // A cull stays the reason until someone starts the workspace again.
  const json* ready = find_condition(in.previous, "Ready");
  if (ready && ready->value("reason", "") == "IdleTimeout")
    return {"Ready", "False", "IdleTimeout", ready->value("message", "")};
  return {"Ready", "False", "Stopped",
          "Stopped because spec.running is false; the home volume " + home_claim_name(in.name) +
              " is kept. Set spec.running to true to start it again."};
}

void set_phase_and_conditions(json& status, const StatusInput& in, const std::string& now) {
  auto set = [&](const Condition& c) { set_condition(status, c, in.generation, now); };
  if (in.blocker) {
    const Blocker& b = *in.blocker;
    status["phase"] = b.phase;
    set({"Ready", "False", b.reason, b.message});
    if (b.validity == Validity::Invalid) set({"Valid", "False", b.reason, b.message});
    if (b.validity == Validity::Valid)
      set({"Valid", "True", "Valid", "The spec fits its template."});
    if (b.validity == Validity::Unknown) set({"Valid", "Unknown", b.reason, b.message});
    return;
  }
  set({"Valid", "True", "Valid", "The spec fits its template."});
  if (!in.running) {
    status["phase"] = "Stopped";
    set(stopped_condition(in));
  } else if (in.pod.ready) {
    status["phase"] = "Running";
    set({"Ready", "True", "Running", "The IDE is running at " + in.url});
  } else {
    status["phase"] = "Starting";
    set(starting_condition(in));
  }
}

std::string ready_field(const json& status, const char* field) {
  const json* c = find_condition(status, "Ready");
  return c ? c->value(field, "") : "";
}

}  // namespace

PodState observe_pods(const std::vector<json>& pods) {
  PodState s;
  for (const auto& pod : pods) {
    const json status = pod.value("status", json::object());
    if (status.value("phase", "") == "Running") s.running = true;
    if (is_deleting(pod)) continue;
    s.exists = true;
    note_conditions(status, s);
    note_waiting(status.value("initContainerStatuses", json()), s);
    note_waiting(status.value("containerStatuses", json()), s);
  }
  return s;
}

json compute_status(const StatusInput& in) {
  json status = in.previous.is_object() ? in.previous : json::object();
  std::string now = util::rfc3339(in.now);
  status["observedGeneration"] = in.generation;

  // Blocked before the template resolved: keep counting at the count the pod runs with.
  int64_t gpus = in.gpus.value_or(status.value("gpus", int64_t{0}));
  GpuTime usage = account_gpu_time(status, in.pod.running, gpus, in.now);
  status["gpus"] = gpus;
  status["gpuSeconds"] = usage.gpu_seconds;
  if (usage.running_since)
    status["runningSince"] = util::rfc3339(*usage.running_since);
  else
    status.erase("runningSince");
  if (usage.closed) {
    json sessions = status.value("sessions", json::array());
    sessions.push_back({{"start", util::rfc3339(usage.closed->start)},
                        {"end", util::rfc3339(usage.closed->end)},
                        {"gpus", usage.closed->gpus}});
    while (sessions.size() > kMaxSessions) sessions.erase(sessions.begin());
    status["sessions"] = sessions;
  }

  if (!in.url.empty()) status["url"] = in.url;
  if (!in.image.empty()) status["image"] = in.image;
  if (in.last_activity) status["lastActivityTime"] = util::rfc3339(*in.last_activity);
  set_phase_and_conditions(status, in, now);
  return status;
}

std::vector<StatusEvent> status_events(const json& previous, const json& next) {
  std::vector<StatusEvent> out;
  std::string was = previous.is_object() ? previous.value("phase", "") : "";
  std::string phase = next.value("phase", "");
  std::string reason = ready_field(next, "reason"), message = ready_field(next, "message");

  if (phase == "Running" && was != "Running") out.push_back({"Normal", "Started", message});
  if (phase == "Stopped" && was != "Stopped" && reason != "IdleTimeout")
    out.push_back({"Normal", "Stopped", message});

  const json* valid = find_condition(next, "Valid");
  const json* valid_before = find_condition(previous, "Valid");
  bool invalid = valid && valid->value("status", "") == "False";
  if (invalid &&
      (!valid_before || valid_before->value("message", "") != valid->value("message", "") ||
       valid_before->value("status", "") != "False"))
    out.push_back({"Warning", "InvalidSpec", valid->value("message", "")});

  // Ready problems a person must act on or wait out; each distinct message once.
  static const std::set<std::string> quiet = {"Running", "Starting", "Stopped", "IdleTimeout",
                                              "TemplateBuilding"};
  bool changed =
      reason != ready_field(previous, "reason") || message != ready_field(previous, "message");
  if (!invalid && changed && !reason.empty() && !quiet.count(reason))
    out.push_back({"Warning", reason, message});
  return out;
}

}  // namespace rc::controllers::workspace

// status of a TrainingJob, computed from its Jobs and the previous status.
#include "remotecode/controllers/trainingjob_status.h"

#include <algorithm>
#include <map>

namespace rc::controllers::trainingjob {

using nlohmann::json;

namespace {

std::string condition_of(const json& job, const std::string& type, const char* field) {
  for (const auto& c : job.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type && c.value("status", "") == "True") return c.value(field, "");
  return "";
}

bool has_true_condition(const json& job, const std::string& type) {
  for (const auto& c : job.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  return false;
}

// When the Job finished: completionTime when it succeeded, the Failed condition's time if not.
std::string job_finish_time(const json& job) {
  std::string t = job.value("status", json::object()).value("completionTime", "");
  if (!t.empty()) return t;
  t = condition_of(job, "Failed", "lastTransitionTime");
  return t.empty() ? condition_of(job, "Complete", "lastTransitionTime") : t;
}

std::map<int, json> runs_by_index(const json& status) {
  std::map<int, json> out;
  for (const auto& r : status.value("runs", json::array()))
    if (r.contains("index") && r["index"].is_number_integer()) out[r["index"].get<int>()] = r;
  return out;
}

json run_record(const RunView& view, const json& previous, bool suspended) {
  std::string phase = run_phase(view.job, suspended);
  // A finished run whose Job was deleted keeps its result: the run is not started again.
  if (!view.job && is_terminal_phase(previous.value("phase", ""))) phase = previous["phase"];
  json values = json::object();
  for (const auto& [k, v] : view.run.values) values[k] = v;
  json r = {
      {"index", view.run.index}, {"name", view.job_name}, {"values", values}, {"phase", phase}};

  std::string start = previous.value("startTime", "");
  std::string end = is_terminal_phase(phase) ? previous.value("completionTime", "") : "";
  if (view.job) {
    std::string job_start = view.job->value("status", json::object()).value("startTime", "");
    if (!job_start.empty()) start = job_start;
    if (is_terminal_phase(phase)) {
      std::string job_end = job_finish_time(*view.job);
      if (!job_end.empty()) end = job_end;
    }
  }
  if (!start.empty()) r["startTime"] = start;
  if (!end.empty()) r["completionTime"] = end;

  json metrics = previous.value("metrics", json::object());
  std::optional<int64_t> step;
  if (previous.contains("step") && previous["step"].is_number_integer())
    step = previous["step"].get<int64_t>();
  if (view.metrics) {
    for (const auto& [name, value] : view.metrics->last) metrics[name] = value;
    if (view.metrics->step) step = view.metrics->step;
  }
  if (!metrics.empty()) r["metrics"] = metrics;
  if (step) r["step"] = *step;
  return r;
}

int64_t seconds_between(const std::string& from, const std::string& to) {
  auto a = util::parse_rfc3339(from), b = util::parse_rfc3339(to);
  if (!a || !b || *b < *a) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(*b - *a).count();
}

int64_t gpu_seconds(const json& runs, int64_t gpus_per_run, util::SystemTime now) {
  int64_t total = 0;
  std::string now_text = util::rfc3339(now);
  for (const auto& r : runs) {
    std::string start = r.value("startTime", "");
    if (start.empty()) continue;
    std::string phase = r.value("phase", "");
    if (is_terminal_phase(phase)) {
      total += seconds_between(start, r.value("completionTime", start)) * gpus_per_run;
    } else if (phase == kRunning) {
      total += seconds_between(start, now_text) / 60 * 60 * gpus_per_run;
    }
  }
  return total;
}

// The previous NeverFits verdict, if it was given for this generation of the spec.
std::string sticky_never_fits(const json& previous, int64_t generation) {
  const json* c = find_condition(previous, kAdmittedCondition);
  if (!c || c->value("reason", "") != kNeverFitsReason) return "";
  if (c->value("observedGeneration", int64_t{-1}) != generation) return "";
  return c->value("message", "");
}

std::string earliest(const json& runs, const char* field) {
  std::string best;
  for (const auto& r : runs) {
    std::string t = r.value(field, "");
    if (!t.empty() && (best.empty() || t < best)) best = t;
  }
  return best;
}

std::string latest(const json& runs, const char* field) {
  std::string best;
  for (const auto& r : runs) best = std::max(best, r.value(field, ""));
  return best;
}

Condition admitted_condition(const std::string& never_fits, bool suspended, int waiting,
                             std::optional<int> position) {
  if (!never_fits.empty()) return {kAdmittedCondition, "False", kNeverFitsReason, never_fits};
  if (suspended)
    return {kAdmittedCondition, "False", "Stopped",
            "spec.suspend is true: no run is admitted until it is set to false"};
  if (waiting > 0) {
    std::string msg = std::to_string(waiting) + " run(s) waiting for GPU quota or a free slot";
    if (position) msg += "; next in the queue at position " + std::to_string(*position);
    return {kAdmittedCondition, "False", "Queued", msg};
  }
  return {kAdmittedCondition, "True", "Admitted", "every run has been admitted"};
}

}  // namespace

bool job_finished(const json& job) {
  return has_true_condition(job, "Complete") || has_true_condition(job, "Failed");
}

bool is_terminal_phase(const std::string& phase) {
  return phase == kSucceeded || phase == kFailed;
}

std::string run_phase(const json* job, bool trainingjob_suspended) {
  if (job && has_true_condition(*job, "Complete")) return kSucceeded;
  if (job && has_true_condition(*job, "Failed")) return kFailed;
  if (!job || job->value("spec", json::object()).value("suspend", false))
    return trainingjob_suspended ? kStopped : kQueued;
  return kRunning;
}

json compute_status(const StatusInput& in) {
  const json& tj = *in.trainingjob;
  const json previous = tj.value("status", json::object());
  const int64_t generation = tj.at("metadata").value("generation", int64_t{1});
  const bool suspended = in.spec->suspend;
  const std::string now = util::rfc3339(in.now);

  json status = json::object();
  if (previous.contains("conditions")) status["conditions"] = previous["conditions"];

  auto previous_runs = runs_by_index(previous);
  json runs = json::array();
  int succeeded = 0, failed = 0, running = 0, waiting = 0;
  std::optional<int> position;
  std::string never_fits = sticky_never_fits(previous, generation);
  for (const auto& view : in.runs) {
    auto it = previous_runs.find(view.run.index);
    json r = run_record(view, it == previous_runs.end() ? json::object() : it->second, suspended);
    std::string phase = r["phase"];
    if (phase == kSucceeded) ++succeeded;
    if (phase == kFailed) ++failed;
    if (phase == kRunning) ++running;
    if (phase == kQueued) {
      ++waiting;
      if (view.queue_position && (!position || *view.queue_position < *position))
        position = view.queue_position;
    }
    if (never_fits.empty() && !view.never_fits.empty() && !is_terminal_phase(phase))
      never_fits = view.never_fits;
    runs.push_back(std::move(r));
  }
  const int total = static_cast<int>(in.runs.size());
  const int finished = succeeded + failed;

  std::string phase;
  if (!never_fits.empty())
    phase = kFailed;
  else if (total > 0 && finished == total)
    phase = failed > 0 ? kFailed : kSucceeded;
  else if (suspended)
    phase = kStopped;
  else if (running > 0)
    phase = kRunning;
  else
    phase = kQueued;

  status["phase"] = phase;
  if (phase == kQueued && position) status["queuePosition"] = *position;
  status["progress"] = std::to_string(finished) + "/" + std::to_string(total);
  status["runsTotal"] = total;
  status["runsSucceeded"] = succeeded;
  status["runsFailed"] = failed;
  status["runs"] = runs;

  std::string start = previous.value("startTime", "");
  if (start.empty()) start = earliest(runs, "startTime");
  if (!start.empty()) status["startTime"] = start;
  if (is_terminal_phase(phase)) {
    std::string end = previous.value("completionTime", "");
    if (end.empty()) end = latest(runs, "completionTime");
    status["completionTime"] = end.empty() ? now : end;
  }
  status["gpuSeconds"] = std::max(previous.value("gpuSeconds", int64_t{0}),
                                  gpu_seconds(runs, in.gpus_per_run, in.now));
  status["notified"] = is_terminal_phase(phase) && previous.value("notified", false);
  status["observedGeneration"] = generation;

  set_condition(status, {kValidCondition, "True", "SpecValid", "the spec is valid"}, generation,
                now);
  if (in.unresolved)
    set_condition(status, *in.unresolved, generation, now);
  else
    set_condition(status, {kResolvedCondition, "True", "Resolved", "image and source found"},
                  generation, now);
  set_condition(status, admitted_condition(never_fits, suspended, waiting, position), generation,
                now);
  return status;
}

std::optional<util::SystemTime> ttl_expiry(const json& status, const api::TrainingJobSpec& spec) {
  if (!spec.ttl_seconds_after_finished || !is_terminal_phase(status.value("phase", "")))
    return std::nullopt;
  auto done = util::parse_rfc3339(status.value("completionTime", ""));
  if (!done) return std::nullopt;
  return *done + std::chrono::seconds(*spec.ttl_seconds_after_finished);
}

}  // namespace rc::controllers::trainingjob

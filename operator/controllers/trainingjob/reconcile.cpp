// The TrainingJob controller: per TrainingJob, create each run's Job (suspended) and Service,
// stop and resume, read metrics, write status, notify, expire; and, under one extra key of the
// same work queue, the cluster-wide admission pass that unsuspends Jobs.
#include <spdlog/spdlog.h>

#include "queue.h"
#include "remotecode/api/template.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/notify.h"
#include "remotecode/controllers/terminal_errors.h"
#include "remotecode/controllers/trainingjob.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/controllers/trainingjob_status.h"
#include "run_metrics.h"

namespace rc::controllers {

using nlohmann::json;
using runtime::ObjectPtr;
using runtime::Result;

namespace {

using namespace trainingjob;

// Object keys are "namespace/name"; this one has no '/', so no TrainingJob can have it.
constexpr const char* kAdmissionKey = "@admission";
// The admission pass runs on every relevant change, and this often regardless.
constexpr auto kAdmissionResync = std::chrono::seconds(30);
constexpr auto kAdmissionRetry = std::chrono::seconds(2);
// How soon a finished run's log is read again after the last read failed.
constexpr auto kFinalMetricsRetry = std::chrono::seconds(5);

struct Informers {
  std::shared_ptr<runtime::Informer> trainingjobs, jobs, services, pods, quotas, nodes, deployments,
      workspaces, templates, pvcs;
};

// The inputs the children are rendered from, or why they cannot be yet.
struct Resolved {
  RenderInput input;
  std::optional<Condition> unresolved;
};

std::string key_of(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

std::string phase_of(const json& status) {
  return status.value("phase", "");
}

class TrainingJobReconciler {
 public:
  TrainingJobReconciler(std::shared_ptr<kube::Client> client, const OperatorConfig& config,
                        std::shared_ptr<EventRecorder> events, Informers informers,
                        std::shared_ptr<AdmissionQueue> queue, std::shared_ptr<Notifier> notifier)
      : client_(std::move(client)),
        config_(config),
        events_(std::move(events)),
        inf_(std::move(informers)),
        queue_(std::move(queue)),
        notifier_(std::move(notifier)),
        metrics_(client_, inf_.pods, std::chrono::seconds(config.metrics_poll_seconds)) {}

  Result reconcile(const std::string& key);

 private:
  Result reject_spec(const json& tj, const api::SpecError& e);
  Resolved resolve(const json& tj, const api::TrainingJobSpec& spec);
  void ensure_run(const json& tj, const Resolved& r, const api::SweepRun& run, const ObjectPtr& job,
                  const json& previous_run, std::vector<std::string>& created);
  void stop_runs(const std::vector<ObjectPtr>& jobs);
  void delete_stale_children(const json& tj, size_t runs, bool multi_worker);
  void record_transitions(const json& tj, const json& before, const json& after);
  void notify(const json& tj, const api::TrainingJobSpec& spec, const json& status);
  std::optional<Result> expire(const json& tj, const api::TrainingJobSpec& spec,
                               const json& status);

  std::shared_ptr<kube::Client> client_;
  OperatorConfig config_;
  std::shared_ptr<EventRecorder> events_;
  Informers inf_;
  std::shared_ptr<AdmissionQueue> queue_;
  std::shared_ptr<Notifier> notifier_;
  RunMetricsReader metrics_;
};

Result TrainingJobReconciler::reconcile(const std::string& key) {
  ObjectPtr cached = inf_.trainingjobs->store().get(key);
  if (!cached) {
    metrics_.forget(key);
    return Result::done();
  }
  const json tj = trainingjob_with_kind(*cached);
  const json& md = tj.at("metadata");
  if (md.contains("deletionTimestamp")) return Result::done();
  const std::string ns = md.value("namespace", "");

  api::TrainingJobSpec spec;
  Resolved resolved;
  try {
    spec = api::parse_trainingjob(tj);
    resolved = resolve(tj, spec);
  } catch (const api::SpecError& e) {
    return reject_spec(tj, e);
  }

  const json previous = tj.value("status", json::object());
  const int64_t generation = md.value("generation", int64_t{1});
  // A finished TrainingJob starts nothing again, even if a finished Job is deleted.
  const bool finished = is_terminal_phase(phase_of(previous)) &&
                        previous.value("observedGeneration", int64_t{0}) == generation;
  std::map<int, json> previous_runs;
  for (const auto& r : previous.value("runs", json::array()))
    previous_runs[r.value("index", -1)] = r;

  auto runs = api::sweep_combinations(spec);
  std::vector<ObjectPtr> jobs;
  std::vector<std::string> created;
  for (const auto& run : runs) {
    ObjectPtr job = inf_.jobs->store().get(key_of(ns, run_name(md.value("name", ""), run.index)));
    if (!resolved.unresolved && !finished)
      ensure_run(tj, resolved, run, job, previous_runs[run.index], created);
    jobs.push_back(job);
  }
  if (!created.empty())
    events_->record(tj, "Normal", "Created",
                    "created " + std::to_string(created.size()) + " Job(s): " + created.front() +
                        (created.size() > 1 ? " ... " + created.back() : ""));
  if (spec.suspend) stop_runs(jobs);
  delete_stale_children(tj, runs.size(), spec.workers > 1);

  StatusInput in;
  in.trainingjob = &tj;
  in.spec = &spec;
  const api::Resources& res = resolved.input.resources;
  in.gpus_per_run = res.gpus.value_or(res.gpu_memory_mib ? 1 : 0) * spec.workers;
  in.unresolved = resolved.unresolved;
  in.now = std::chrono::system_clock::now();
  bool any_running = false;
  for (size_t i = 0; i < runs.size(); ++i) {
    RunView view;
    view.run = runs[i];
    view.job_name = run_name(md.value("name", ""), runs[i].index);
    view.job = jobs[i] ? jobs[i].get() : nullptr;
    RunVerdict verdict = queue_->verdict(key_of(ns, view.job_name));
    view.queue_position = verdict.position;
    view.never_fits = verdict.never_fits;
    std::string phase = run_phase(view.job, spec.suspend);
    if (phase == kRunning) any_running = true;
    if (view.job && (phase == kRunning || is_terminal_phase(phase)))
      view.metrics = metrics_.read_if_due(key, *view.job, is_terminal_phase(phase));
    in.runs.push_back(std::move(view));
  }
  json status = compute_status(in);
  const bool notify_now = is_terminal_phase(phase_of(status)) && !status.value("notified", false);
  if (notify_now) status["notified"] = true;  // written before sending: a notification goes once

  if (update_status_if_changed(*client_, refs::trainingjobs(), tj, status)) {
    record_transitions(tj, previous, status);
    if (notify_now) notify(tj, spec, status);
  }
  if (auto r = expire(tj, spec, status)) return *r;
  if (any_running) return Result::after(std::chrono::seconds(config_.metrics_poll_seconds));
  if (metrics_.final_read_pending(key)) return Result::after(kFinalMetricsRetry);
  return Result::done();
}

Result TrainingJobReconciler::reject_spec(const json& tj, const api::SpecError& e) {
  json status = tj.value("status", json::object());
  const int64_t generation = tj.at("metadata").value("generation", int64_t{1});
  set_condition(status, {kValidCondition, "False", e.reason(), e.what()}, generation,
                util::now_rfc3339());
  status["phase"] = kFailed;
  status["observedGeneration"] = generation;
  // Recorded only when the status changed, so a bad spec is one Event, not one per resync.
  if (update_status_if_changed(*client_, refs::trainingjobs(), tj, status))
    events_->record(tj, "Warning", "InvalidSpec", e.what());
  return Result::done();
}

Resolved TrainingJobReconciler::resolve(const json& tj, const api::TrainingJobSpec& spec) {
  const std::string ns = tj.at("metadata").value("namespace", "");
  Resolved r;
  r.input.spec = spec;
  r.input.resources = spec.resources;
  r.input.image = spec.image;
  if (!spec.template_name.empty()) {
    ObjectPtr tpl = inf_.templates->store().get(spec.template_name);
    if (!tpl) {
      r.unresolved =
          Condition{kResolvedCondition, "False", "TemplateNotFound",
                    "Template " + spec.template_name + " does not exist (kubectl get templates)"};
      return r;
    }
    api::TemplateSpec t;
    try {
      t = api::parse_template(*tpl);
    } catch (const api::SpecError& e) {
      r.unresolved = Condition{kResolvedCondition, "False", "TemplateInvalid",
                               "Template " + spec.template_name + " is invalid: " + e.what()};
      return r;
    }
    api::Errors errors;
    r.input.resources =
        api::effective_resources(spec.resources, t.defaults, t.maximum, "spec.resources", errors);
    r.input.resources.home_size.clear();
    errors.throw_if_any();
    r.input.image = api::template_image(*tpl);
    if (r.input.image.empty()) {
      r.unresolved = Condition{
          kResolvedCondition, "False", "TemplateNotReady",
          "Template " + spec.template_name + " has no image yet: its build has not succeeded"};
      return r;
    }
  }
  if (spec.workspace && !inf_.pvcs->store().get(key_of(ns, spec.workspace->name + "-home"))) {
    r.unresolved = Condition{kResolvedCondition, "False", "WorkspaceNotFound",
                             "the home volume " + spec.workspace->name + "-home of Workspace " +
                                 spec.workspace->name + " does not exist in " + ns};
    return r;
  }
  r.input.datasets_present = !config_.datasets_claim.empty() &&
                             inf_.pvcs->store().get(key_of(ns, config_.datasets_claim)) != nullptr;
  return r;
}

// Creates the run's Job suspended with a plain create, not an apply: the create's field manager
// (an Update) keeps spec.suspend, our later applies leave it out (job_for_apply), so only the
// queue and Stop ever change it. A Job whose rendered spec changed is re-created while it still
// waits; one that started keeps what it started with (a Job's pod template is immutable).
void TrainingJobReconciler::ensure_run(const json& tj, const Resolved& r, const api::SweepRun& run,
                                       const ObjectPtr& job, const json& previous_run,
                                       std::vector<std::string>& created) {
  json desired = render_run_job(tj, r.input, run, config_);
  const std::string ns = tj.at("metadata").value("namespace", "");
  const std::string name = desired["metadata"]["name"];
  if (auto svc = render_run_service(tj, r.input, run))
    apply_if_changed(*client_, refs::services(), *svc,
                     inf_.services->store().get(key_of(ns, name)));
  if (!job) {
    if (previous_run.is_object() && is_terminal_phase(previous_run.value("phase", ""))) return;
    try {
      client_->create(refs::jobs(), ns, desired);
      created.push_back(name);
    } catch (const kube::ApiError& e) {
      if (!e.already_exists()) throw;  // already there: the cache has not seen it yet
    }
    return;
  }
  const json job_annotations = (*job).at("metadata").value("annotations", json::object());
  if (job_annotations.value(kSpecHashAnnotation, "") !=
      desired["metadata"]["annotations"][kSpecHashAnnotation]) {
    bool waiting =
        (*job).value("spec", json::object()).value("suspend", false) && !job_finished(*job);
    if (waiting) delete_if_present(*client_, refs::jobs(), job);
    return;
  }
  apply_if_changed(*client_, refs::jobs(), job_for_apply(desired), job);
}

// Suspends every unfinished run (the Job controller deletes its pods; resuming re-queues it).
void TrainingJobReconciler::stop_runs(const std::vector<ObjectPtr>& jobs) {
  for (const auto& job : jobs) {
    if (!job || job_finished(*job) || (*job).value("spec", json::object()).value("suspend", false))
      continue;
    const json& md = (*job).at("metadata");
    try {
      client_->patch(refs::jobs(), md.value("namespace", ""), md.value("name", ""),
                     kube::PatchType::Merge, {{"spec", {{"suspend", true}}}});
    } catch (const kube::ApiError& e) {
      if (!e.not_found()) throw;
    }
  }
}

// Jobs of runs the spec no longer has, and Services of runs that no longer have several workers.
void TrainingJobReconciler::delete_stale_children(const json& tj, size_t runs, bool multi_worker) {
  const std::string uid = tj.at("metadata").value("uid", "");
  auto stale = [&](const ObjectPtr& child) {
    std::string run = (*child).at("metadata").value("labels", json::object()).value(kRunLabel, "");
    char* end = nullptr;
    long index = std::strtol(run.c_str(), &end, 10);
    return run.empty() || *end != '\0' || index < 0 || static_cast<size_t>(index) >= runs;
  };
  for (const auto& job : inf_.jobs->store().by_owner(uid))
    if (stale(job)) delete_if_present(*client_, refs::jobs(), job);
  for (const auto& svc : inf_.services->store().by_owner(uid))
    if (!multi_worker || stale(svc)) delete_if_present(*client_, refs::services(), svc);
}

void TrainingJobReconciler::record_transitions(const json& tj, const json& before,
                                               const json& after) {
  const std::string was = phase_of(before), now = phase_of(after);
  const json* admitted = find_condition(after, kAdmittedCondition);
  const json* admitted_before = find_condition(before, kAdmittedCondition);
  auto reason = [](const json* c) { return c ? c->value("reason", "") : std::string(); };
  if (reason(admitted) == kNeverFitsReason && reason(admitted_before) != kNeverFitsReason)
    events_->record(tj, "Warning", kNeverFitsReason, admitted->value("message", ""));
  if (was == now) return;
  std::string progress = after.value("progress", "");
  if (now == kSucceeded)
    events_->record(tj, "Normal", "Succeeded", "every run succeeded (" + progress + ")");
  else if (now == kFailed)
    events_->record(tj, "Warning", "Failed",
                    std::to_string(after.value("runsFailed", 0)) + " of " +
                        std::to_string(after.value("runsTotal", 0)) + " run(s) failed");
  else if (now == kStopped)
    events_->record(tj, "Normal", "Stopped",
                    "spec.suspend is true: unfinished runs are suspended until it is false");
  if (was == kStopped && now != kStopped)
    events_->record(tj, "Normal", "Resumed", "spec.suspend is false: runs are queued again");
}

void TrainingJobReconciler::notify(const json& tj, const api::TrainingJobSpec& spec,
                                   const json& status) {
  Notification n;
  n.namespace_name = tj.at("metadata").value("namespace", "");
  n.name = tj.at("metadata").value("name", "");
  n.phase = phase_of(status);
  n.runs = status.value("runs", json::array());
  n.email_to = spec.notify_email;
  const json* admitted = find_condition(status, kAdmittedCondition);
  if (admitted && admitted->value("reason", "") == kNeverFitsReason)
    n.message = admitted->value("message", "");
  else
    n.message = std::to_string(status.value("runsSucceeded", 0)) + " of " +
                std::to_string(status.value("runsTotal", 0)) + " run(s) succeeded";
  auto errors = notifier_->send(n);
  for (const auto& e : errors) events_->record(tj, "Warning", "NotificationFailed", e);
  if (errors.empty() &&
      (!config_.notify_webhook_url.empty() || (!config_.smtp_url.empty() && !n.email_to.empty())))
    events_->record(tj, "Normal", "Notified", "sent the " + n.phase + " notification");
}

// Deletes the TrainingJob (its Jobs and Services go with it) once ttlSecondsAfterFinished has
// passed; otherwise says when to look again.
std::optional<Result> TrainingJobReconciler::expire(const json& tj,
                                                    const api::TrainingJobSpec& spec,
                                                    const json& status) {
  auto due = ttl_expiry(status, spec);
  if (!due) return std::nullopt;
  auto left = *due - std::chrono::system_clock::now();
  if (left > std::chrono::seconds(0))
    return Result::after(std::chrono::duration_cast<std::chrono::milliseconds>(left) +
                         std::chrono::milliseconds(100));
  const json& md = tj.at("metadata");
  kube::DeleteOptions opts;
  opts.propagation = "Background";
  opts.precondition_uid = md.value("uid", "");
  try {
    client_->remove(refs::trainingjobs(), md.value("namespace", ""), md.value("name", ""), opts);
    spdlog::info("trainingjob {}/{}: deleted {}s after it finished (ttlSecondsAfterFinished)",
                 md.value("namespace", ""), md.value("name", ""), *spec.ttl_seconds_after_finished);
  } catch (const kube::ApiError& e) {
    if (!e.not_found() && !e.conflict()) throw;
  }
  return Result::done();
}

// Keys of TrainingJobs (in `ns`, or everywhere) whose spec `uses` a changed object.
std::vector<std::string> trainingjobs_where(const runtime::Informer& trainingjobs,
                                            const std::string& ns,
                                            const std::function<bool(const json&)>& uses) {
  std::vector<std::string> keys;
  auto list = ns.empty() ? trainingjobs.store().list() : trainingjobs.store().list_namespace(ns);
  for (const auto& tj : list)
    if (uses((*tj).value("spec", json::object()))) keys.push_back(runtime::object_key(*tj));
  return keys;
}

std::string workspace_source(const json& spec) {
  return spec.value("source", json::object()).value("workspace", json::object()).value("name", "");
}

void wire_watches(runtime::Controller& c, const Informers& inf, const OperatorConfig& config) {
  c.owns(inf.jobs, "TrainingJob").owns(inf.services, "TrainingJob");
  c.watches(inf.pods, [](const ObjectPtr& pod) -> std::vector<std::string> {
    const json& md = (*pod).at("metadata");
    const json labels = md.value("labels", json::object());
    if (labels.value(kKindLabel, "") != kKindLabelValue) return {};
    std::string name = labels.value(kNameLabel, "");
    if (name.empty()) return {};
    return {key_of(md.value("namespace", ""), name)};
  });
  // A plain pointer: the manager owns every informer for as long as handlers run, and a
  // shared_ptr captured in another informer's handler would keep both alive for ever.
  const runtime::Informer* tjs = inf.trainingjobs.get();
  c.watches(inf.templates, [tjs](const ObjectPtr& tpl) {
    std::string name = (*tpl).at("metadata").value("name", "");
    return trainingjobs_where(*tjs, "",
                              [&](const json& s) { return s.value("template", "") == name; });
  });
  c.watches(inf.workspaces, [tjs](const ObjectPtr& ws) {
    const json& md = (*ws).at("metadata");
    std::string name = md.value("name", "");
    return trainingjobs_where(*tjs, md.value("namespace", ""),
                              [&](const json& s) { return workspace_source(s) == name; });
  });
  std::string datasets = config.datasets_claim;
  c.watches(inf.pvcs, [tjs, datasets](const ObjectPtr& pvc) {
    const json& md = (*pvc).at("metadata");
    std::string name = md.value("name", "");
    return trainingjobs_where(*tjs, md.value("namespace", ""), [&](const json& s) {
      std::string ws = workspace_source(s);
      return name == datasets || (!ws.empty() && name == ws + "-home");
    });
  });
  // Anything that changes who may run next runs the admission pass.
  auto admission = [](const ObjectPtr&) { return std::vector<std::string>{kAdmissionKey}; };
  c.watches(inf.trainingjobs, admission)
      .watches(inf.jobs, admission)
      .watches(inf.quotas, admission)
      .watches(inf.nodes, admission);
  c.watches(inf.deployments, [](const ObjectPtr& d) {
    const json labels = (*d).at("metadata").value("labels", json::object());
    if (labels.value(kKindLabel, "") != "workspace") return std::vector<std::string>{};
    return std::vector<std::string>{kAdmissionKey};
  });
}

}  // namespace

void add_trainingjob_controller(runtime::Manager& manager, const OperatorConfig& config,
                                std::shared_ptr<EventRecorder> events) {
  Informers inf;
  inf.trainingjobs = manager.informer(refs::trainingjobs());
  inf.jobs = manager.informer(refs::jobs());
  inf.services = manager.informer(refs::services());
  inf.pods = manager.informer(refs::pods());
  inf.quotas = manager.informer(refs::resourcequotas());
  inf.nodes = manager.informer(refs::nodes());
  inf.deployments = manager.informer(refs::deployments());
  inf.workspaces = manager.informer(refs::workspaces());
  inf.templates = manager.informer(refs::templates());
  inf.pvcs = manager.informer(refs::pvcs());

  auto client = manager.client();
  auto queue = std::make_shared<AdmissionQueue>(
      client, config, events,
      QueueInformers{inf.trainingjobs, inf.jobs, inf.deployments, inf.quotas, inf.nodes});
  auto reconciler = std::make_shared<TrainingJobReconciler>(client, config, events, inf, queue,
                                                            make_notifier(config));
  // The admission pass shares the controller's queue under its own key: the queue hands a key to
  // one worker at a time and folds repeated adds into one, so passes never overlap and a burst
  // of changes costs one pass.
  auto self = std::make_shared<runtime::Controller*>(nullptr);
  auto& controller = manager.add_controller(
      "trainingjob", inf.trainingjobs, [queue, reconciler, self](const std::string& key) {
        if (key != kAdmissionKey) return reconciler->reconcile(key);
        auto pass = queue->run_pass();
        for (const auto& owner : pass.changed) (*self)->queue().add(owner);
        return Result::after(pass.failed ? kAdmissionRetry : kAdmissionResync);
      });
  *self = &controller;  // the manager owns the controller for as long as workers run
  controller.on_terminal_error(report_terminal_errors(client, refs::trainingjobs(), events));
  wire_watches(controller, inf, config);
}

}  // namespace rc::controllers

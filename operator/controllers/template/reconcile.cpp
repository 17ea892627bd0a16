// The Template controller: validates the spec, keeps the share-link Secret, runs one build Job
// per distinct build (the hash is in the Job's name) and reports the result in status.
#include <spdlog/spdlog.h>

#include "remotecode/api/template.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/template.h"
#include "remotecode/controllers/template_render.h"
#include "remotecode/controllers/template_status.h"
#include "remotecode/controllers/terminal_errors.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::controllers {

namespace {

using nlohmann::json;
using runtime::ObjectPtr;

constexpr size_t kLogLines = 10;

// Templates are cluster-scoped, so the key of a child's owner is its bare name;
// runtime::controller_owner_key would prefix the child's namespace.
std::vector<std::string> owning_template(const ObjectPtr& child) {
  const json refs = (*child)["metadata"].value("ownerReferences", json::array());
  for (const auto& r : refs)
    if (r.value("controller", false) && r.value("kind", "") == "Template" &&
        r.value("apiVersion", "").rfind(std::string(api::kGroup) + "/", 0) == 0)
      return {r.value("name", "")};
  return {};
}

// An Event that reports a status change. It is recorded only after the status write succeeds:
// a reconcile working from a stale cache sees the same change again, but its write is refused
// (Conflict), so each change is reported once.
struct Transition {
  std::string type;  // Normal, Warning
  std::string reason;
  std::string message;
};
using Transitions = std::vector<Transition>;

std::string status_string(const json& status, const char* key) {
  return status.is_object() ? status.value(key, "") : "";
}

runtime::InformerOptions own_namespace(const OperatorConfig& config) {
  runtime::InformerOptions o;
  o.namespace_name = config.namespace_name;
  return o;
}

class TemplateReconciler {
 public:
  TemplateReconciler(runtime::Manager& manager, OperatorConfig config,
                     std::shared_ptr<EventRecorder> events)
      : client_(manager.client()),
        config_(std::move(config)),
        events_(std::move(events)),
        templates_(manager.informer(refs::templates())),
        jobs_(manager.informer(refs::jobs())),
        pods_(manager.informer(refs::pods())),
        // Build ConfigMaps and share Secrets live only in the operator's namespace: watching
        // just that namespace keeps the cache small and the RBAC for them a Role, not a
        // ClusterRole over every Secret in the cluster.
        configmaps_(manager.informer(refs::configmaps(), own_namespace(config_))),
        secrets_(manager.informer(refs::secrets(), own_namespace(config_))) {}

  runtime::Result reconcile(const std::string& key) {
    ObjectPtr cached = templates_->store().get(key);
    // A deleted Template's children go with it through their owner references.
    if (!cached || (*cached)["metadata"].contains("deletionTimestamp"))
      return runtime::Result::done();
    const json& t = *cached;
    json status = t.value("status", json::object());
    tpl::StatusStamp at{t["metadata"].value("generation", int64_t{0}), util::now_rfc3339()};

    Transitions transitions;
    api::TemplateSpec spec;
    try {
      spec = api::parse_template(t);
    } catch (const api::SpecError& e) {
      const json* valid = find_condition(status, "Valid");
      bool reported =
          valid && valid->value("status", "") == "False" && valid->value("message", "") == e.what();
      tpl::mark_invalid(status, e, at);
      if (!reported) transitions.push_back({"Warning", e.reason(), e.what()});
      write_status(t, status, transitions);
      return runtime::Result::done();
    }

    reconcile_sharing(t, spec.sharing, status);
    if (spec.build) {
      reconcile_build(t, *spec.build, status, at, transitions);
    } else {
      bool was_ready =
          status_string(status, "phase") == "Ready" && status_string(status, "image") == spec.image;
      tpl::mark_image_ready(status, spec.image, at);
      if (!was_ready) transitions.push_back({"Normal", "ImageReady", "using image " + spec.image});
      delete_builds_except(t, "");
    }
    write_status(t, status, transitions);
    return runtime::Result::done();
  }

  std::shared_ptr<runtime::Informer> templates() const { return templates_; }
  std::vector<std::shared_ptr<runtime::Informer>> children() const {
    return {jobs_, configmaps_, secrets_};
  }

 private:
  void write_status(const json& t, const json& status, const Transitions& transitions) {
    update_status_if_changed(*client_, refs::templates(), t, status);
    for (const auto& e : transitions) events_->record(t, e.type, e.reason, e.message);
  }

  void reconcile_build(const json& t, const api::BuildSpec& build, json& status,
                       const tpl::StatusStamp& at, Transitions& transitions) {
    const std::string name = t["metadata"].value("name", "");
    const std::string hash = api::build_hash(build, config_.default_base_image,
                                             tpl::destination_repository(config_, name));
    const std::string job_name = tpl::build_object_name(name, hash);
    const std::string image = tpl::built_image(config_, name, hash);
    const std::string phase = status_string(status, "phase");
    const bool same_build = status_string(status, "buildHash") == hash;

    // Built before: the image is in the registry, whether or not its Job is still around.
    if (phase == "Ready" && same_build && status_string(status, "image") == image) {
      tpl::mark_built(status, image, hash, status_string(status, "buildJob"), at);
      delete_builds_except(t, hash);
      return;
    }

    ObjectPtr job = cached_in_namespace(*jobs_, job_name);
    if (job && (*job)["metadata"].contains("deletionTimestamp")) {
      // Someone deletes it to build again: wait for it to go, its delete event requeues us.
      tpl::mark_building(status, hash, job_name, at);
      return;
    }
    apply_if_changed(*client_, refs::configmaps(),
                     tpl::render_dockerfile_configmap(t, build, hash, config_),
                     cached_in_namespace(*configmaps_, job_name));
    if (!job) {
      // A Job is never updated once it exists (its pod template is immutable); a new spec has a
      // new hash and so a new Job.
      apply_if_changed(*client_, refs::jobs(), tpl::render_build_job(t, hash, config_), nullptr);
    }
    const bool was_building = phase == "Building" && status_string(status, "buildJob") == job_name;
    switch (job ? tpl::job_outcome(*job) : tpl::JobOutcome::Running) {
      case tpl::JobOutcome::Running:
        tpl::mark_building(status, hash, job_name, at);
        if (!was_building)
          transitions.push_back(
              {"Normal", "BuildStarted",
               "building " + image + " in Job " + config_.namespace_name + "/" + job_name});
        return;
      case tpl::JobOutcome::Succeeded:
        tpl::mark_built(status, image, hash, job_name, at);
        transitions.push_back({"Normal", "BuildSucceeded", "built and pushed " + image});
        delete_builds_except(t, hash);
        return;
      case tpl::JobOutcome::Failed: {
        // The log is read once, when the failure is first seen; later reconciles keep the
        // message already in status.
        const json* built = find_condition(status, "Built");
        std::string message;
        if (phase == "Failed" && same_build && built && built->value("reason", "") == "BuildFailed")
          message = built->value("message", "");
        bool reported = !message.empty();
        if (!reported) message = tpl::build_failure_message(*job, build_log_tail(job_name));
        tpl::mark_build_failed(status, hash, job_name, message, at);
        if (!reported) transitions.push_back({"Warning", "BuildFailed", message});
        return;
      }
    }
  }

  void reconcile_sharing(const json& t, const api::SharingSpec& sharing, json& status) {
    const std::string name = tpl::share_secret_name(t["metadata"].value("name", ""));
    ObjectPtr cached = cached_in_namespace(*secrets_, name);
    if (!sharing.enabled) {
      if (delete_if_present(*client_, refs::secrets(), cached))
        events_->record(t, "Normal", "SharingDisabled", "deleted share Secret " + name);
      tpl::set_share_secret(status, "");
      return;
    }
    // Existing values are kept: a share link already handed out must keep working.
    const tpl::ShareValues have = tpl::read_share_values(cached.get());
    tpl::ShareValues want = have;
    if (want.token.empty()) want.token = util::random_hex(24);
    if (!sharing.require_access_key)
      want.access_key.clear();
    else if (want.access_key.empty())
      want.access_key = util::random_hex(8);
    json desired = tpl::render_share_secret(t, want, config_);
    if (!cached) {
      create_share_secret(desired);
      events_->record(t, "Normal", "SharingEnabled",
                      "share token kept in Secret " + config_.namespace_name + "/" + name);
    } else if (want != have) {
      // Applying our whole Secret also removes an accessKey no longer required.
      client_->apply(refs::secrets(), desired);
    } else {
      apply_if_changed(*client_, refs::secrets(), desired, cached);
    }
    tpl::set_share_secret(status, name);
  }

  // Create, never apply, when the cache has no Secret: if the cache is only late, applying
  // would replace a token already handed out with a new random one.
  void create_share_secret(const json& desired) {
    try {
      client_->create(refs::secrets(), config_.namespace_name, desired);
    } catch (const kube::ApiError& e) {
      if (!e.already_exists()) throw;
      throw runtime::CacheBehind("share Secret " + desired["metadata"].value("name", "") +
                                 " exists but is not cached yet; retrying");
    }
  }

  // Deletes the build Jobs and ConfigMaps of this template other than `keep_hash`'s.
  void delete_builds_except(const json& t, const std::string& keep_hash) {
    const std::string uid = t["metadata"].value("uid", "");
    for (const auto& [informer, ref] :
         {std::pair{jobs_, &refs::jobs()}, std::pair{configmaps_, &refs::configmaps()}}) {
      for (const auto& child : informer->store().by_owner(uid)) {
        const json& md = (*child)["metadata"];
        const json labels = md.value("labels", json::object());
        if (md.value("namespace", "") != config_.namespace_name ||
            labels.value(kKindLabel, "") != tpl::kBuildKind ||
            labels.value(tpl::kBuildHashLabel, "") == keep_hash)
          continue;
        if (delete_if_present(*client_, *ref, child) && ref == &refs::jobs())
          events_->record(t, "Normal", "OldBuildDeleted",
                          "deleted Job " + md.value("name", "") + " of a previous build");
      }
    }
  }

  // The last lines the builder printed, from the newest pod of the Job ("" if none).
  std::string build_log_tail(const std::string& job_name) {
    ObjectPtr newest;
    for (const auto& pod : pods_->store().list_namespace(config_.namespace_name)) {
      const json& md = (*pod)["metadata"];
      if (md.value("labels", json::object()).value("job-name", "") != job_name) continue;
      if (!newest ||
          md.value("creationTimestamp", "") > (*newest)["metadata"].value("creationTimestamp", ""))
        newest = pod;
    }
    if (!newest) return "";
    const std::string pod_name = (*newest)["metadata"].value("name", "");
    try {
      return tpl::last_lines(
          client_->logs(config_.namespace_name, pod_name, "build", static_cast<int64_t>(kLogLines)),
          kLogLines);
    } catch (const std::exception& e) {
      // The failure is still reported, only without the log.
      spdlog::warn("template controller: cannot read the log of build pod {}/{}: {}",
                   config_.namespace_name, pod_name, e.what());
      return "";
    }
  }

  ObjectPtr cached_in_namespace(const runtime::Informer& informer, const std::string& name) const {
    return informer.store().get(config_.namespace_name + "/" + name);
  }

  std::shared_ptr<kube::Client> client_;
  OperatorConfig config_;
  std::shared_ptr<EventRecorder> events_;
  std::shared_ptr<runtime::Informer> templates_, jobs_, pods_, configmaps_, secrets_;
};

}  // namespace

void add_template_controller(runtime::Manager& manager, const OperatorConfig& config,
                             std::shared_ptr<EventRecorder> events) {
  auto reconciler = std::make_shared<TemplateReconciler>(manager, config, events);
  auto& controller = manager.add_controller(
      "template", reconciler->templates(),
      [reconciler](const std::string& key) { return reconciler->reconcile(key); });
  controller.on_terminal_error(report_terminal_errors(manager.client(), refs::templates(), events));
  // Pods are read (for build logs) but not watched: a build pod's end changes its Job.
  for (const auto& child : reconciler->children()) controller.watches(child, owning_template);
}

}  // namespace rc::controllers

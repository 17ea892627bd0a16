// The Workspace controller: reads the Workspace, its Template, its children and its pods from
// the shared caches, stops it when idle, applies the rendered children and writes status.
#include <spdlog/spdlog.h>

#include "remotecode/controllers/children.h"
#include "remotecode/controllers/terminal_errors.h"
#include "remotecode/controllers/workspace.h"
#include "remotecode/controllers/workspace_render.h"
#include "remotecode/controllers/workspace_status.h"

namespace rc::controllers {

using nlohmann::json;
using runtime::ObjectPtr;
using namespace workspace;

namespace {

constexpr const char* kOwnerKind = "Workspace";

std::string label_of(const json& obj, const char* key) {
  const json labels = obj.at("metadata").value("labels", json::object());
  return labels.is_object() ? labels.value(key, "") : "";
}

std::optional<util::SystemTime> last_activity_of(const json& ws) {
  const json annotations = ws.at("metadata").value("annotations", json::object());
  if (!annotations.is_object() || !annotations.contains(kLastActivityAnnotation))
    return std::nullopt;
  const json& v = annotations[kLastActivityAnnotation];
  return v.is_string() ? util::parse_rfc3339(v.get<std::string>()) : std::nullopt;
}

int64_t generation_of(const json& obj) {
  return obj.at("metadata").value("generation", int64_t{0});
}

std::string minutes_text(std::chrono::seconds s) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(s).count();
  return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

bool owned_by(const json& obj, const std::string& uid) {
  for (const auto& r : obj.at("metadata").value("ownerReferences", json::array()))
    if (r.value("uid", "") == uid) return true;
  return false;
}

class WorkspaceReconciler : public std::enable_shared_from_this<WorkspaceReconciler> {
 public:
  WorkspaceReconciler(runtime::Manager& manager, const OperatorConfig& config,
                      std::shared_ptr<EventRecorder> events)
      : client_(manager.client()),
        config_(config),
        events_(std::move(events)),
        workspaces_(manager.informer(refs::workspaces())),
        templates_(manager.informer(refs::templates())),
        deployments_(manager.informer(refs::deployments())),
        services_(manager.informer(refs::services())),
        ingresses_(manager.informer(refs::ingresses())),
        network_policies_(manager.informer(refs::networkpolicies())),
        pvcs_(manager.informer(refs::pvcs())),
        pods_(manager.informer(refs::pods())) {}

  // The handlers hold the reconciler weakly: it holds the informers, and a strong reference
  // back from their handlers would keep both alive forever.
  void wire(runtime::Controller& c) {
    std::weak_ptr<WorkspaceReconciler> weak = weak_from_this();
    auto mapped = [weak](auto map) {
      return [weak, map](const ObjectPtr& obj) {
        auto self = weak.lock();
        return self ? map(*self, *obj) : std::vector<std::string>{};
      };
    };
    c.owns(deployments_, kOwnerKind)
        .owns(services_, kOwnerKind)
        .owns(ingresses_, kOwnerKind)
        .owns(network_policies_, kOwnerKind)
        .watches(pods_, [](const ObjectPtr& pod) { return labelled_workspace(*pod); })
        .watches(pvcs_, mapped([](const WorkspaceReconciler& r, const json& pvc) {
                   return r.workspaces_for_claim(pvc);
                 }))
        .watches(templates_, mapped([](const WorkspaceReconciler& r, const json& t) {
                   return r.workspaces_of_template(t);
                 }));
  }

  runtime::Result reconcile(const std::string& key) {
    ObjectPtr cached = workspaces_->store().get(key);
    // Gone: the garbage collector removes the children (a retained home has no owner).
    if (!cached || cached->at("metadata").contains("deletionTimestamp"))
      return runtime::Result::done();
    json ws = *cached;
    std::string ns = ws.at("metadata").value("namespace", "");
    std::string name = ws.at("metadata").value("name", "");
    auto now = std::chrono::system_clock::now();

    const json spec = ws.value("spec", json::object());
    ObjectPtr tpl;
    if (spec.is_object() && spec.contains("template") && spec["template"].is_string())
      tpl = templates_->store().get(spec["template"].get<std::string>());
    Resolution r = resolve_workspace(ws, tpl.get(), datasets_present(ns));

    StatusInput in;
    in.previous = ws.value("status", json::object());
    in.generation = generation_of(ws);
    in.now = now;
    in.namespace_name = ns;
    in.name = name;
    in.blocker = r.blocker;
    in.gpus = r.gpus;
    in.pod = observe_pods(pods_of(ns, name));
    in.last_activity = last_activity_of(ws);

    runtime::Result result = runtime::Result::done();
    bool created = false;
    if (r.input) {
      RenderInput& input = *r.input;
      auto since = account_gpu_time(in.previous, in.pod.running, *r.gpus, now).running_since;
      IdleDecision idle = decide_idle(input.spec.idle_timeout_minutes, input.spec.running,
                                      in.last_activity, since, now);
      if (idle.cull) {
        in.culled_message = cull(ws, idle.idle, input.spec.idle_timeout_minutes);
        in.generation = generation_of(ws);  // the patched spec is a new generation
        input.spec.running = false;
      } else if (idle.requeue_after.count() > 0) {
        result = runtime::Result::after(idle.requeue_after);
      }
      created = apply_children(ws, input);
      in.running = input.spec.running;
      in.url = workspace_url(ns, name, config_);
      in.image = input.image;
    }

    json status = compute_status(in);
    update_status_if_changed(*client_, refs::workspaces(), ws, status);
    // Only after the status write succeeded: a reconcile that read a stale cache fails that
    // write (Conflict) and must not announce the same change a second time.
    if (created) {
      events_->record(ws, "Normal", "Created",
                      "Created Deployment, Service, Ingress and NetworkPolicy " + name +
                          " and the home volume " + home_claim_name(name));
    }
    for (const auto& e : status_events(in.previous, status))
      events_->record(ws, e.type, e.reason, e.message);
    return result;
  }

 private:
  static std::vector<std::string> labelled_workspace(const json& obj) {
    if (label_of(obj, kKindLabel) != kKindLabelValue) return {};
    std::string name = label_of(obj, kNameLabel);
    if (name.empty()) return {};
    return {obj.at("metadata").value("namespace", "") + "/" + name};
  }

  // A home claim belongs to its workspace (also a retained one, which has no owner reference);
  // the datasets claim appearing or going changes every workspace of its namespace.
  std::vector<std::string> workspaces_for_claim(const json& pvc) const {
    std::vector<std::string> keys = labelled_workspace(pvc);
    const json& md = pvc.at("metadata");
    if (config_.datasets_claim.empty() || md.value("name", "") != config_.datasets_claim)
      return keys;
    for (const auto& ws : workspaces_->store().list_namespace(md.value("namespace", "")))
      keys.push_back(runtime::object_key(*ws));
    return keys;
  }

  // A Template's change (image built, image replaced) rolls out to every workspace made from it.
  std::vector<std::string> workspaces_of_template(const json& tpl) const {
    std::string name = tpl.at("metadata").value("name", "");
    std::vector<std::string> keys;
    for (const auto& ws : workspaces_->store().list()) {
      const json spec = ws->value("spec", json::object());
      if (spec.is_object() && spec.value("template", "") == name)
        keys.push_back(runtime::object_key(*ws));
    }
    return keys;
  }

  bool datasets_present(const std::string& ns) const {
    return !config_.datasets_claim.empty() &&
           pvcs_->store().get(ns + "/" + config_.datasets_claim) != nullptr;
  }

  std::vector<json> pods_of(const std::string& ns, const std::string& name) const {
    std::vector<json> out;
    for (const auto& pod : pods_->store().list_namespace(ns))
      if (label_of(*pod, kKindLabel) == kKindLabelValue && label_of(*pod, kNameLabel) == name)
        out.push_back(*pod);
    return out;
  }

  // Stops an idle workspace by setting spec.running to false, as a person would. The patch
  // carries the cached resourceVersion: if the portal has just recorded a request, the write
  // conflicts and the next reconcile decides again with it. `ws` becomes the patched object, so
  // the status written after it is based on the current resourceVersion.
  std::string cull(json& ws, std::chrono::seconds idle, int64_t timeout_minutes) {
    const json& md = ws.at("metadata");
    json patch = {{"metadata", {{"resourceVersion", md.value("resourceVersion", "")}}},
                  {"spec", {{"running", false}}}};
    json patched = client_->patch(refs::workspaces(), md.value("namespace", ""),
                                  md.value("name", ""), kube::PatchType::Merge, patch);
    std::string message = "Stopped after " + minutes_text(idle) +
                          " without a request (idle timeout " +
                          minutes_text(std::chrono::minutes(timeout_minutes)) +
                          "); the home volume is kept. Set spec.running to true to start it again.";
    spdlog::info("workspace {}/{}: {}", md.value("namespace", ""), md.value("name", ""), message);
    events_->record(ws, "Normal", "Culled", message);
    runtime::drop_unread_fields(patched);  // as the informer would have cached it
    ws = std::move(patched);
    return message;
  }

  // Returns true when the workspace had no Deployment yet: its children were created now.
  bool apply_children(const json& ws, const RenderInput& input) {
    std::string key = runtime::object_key(ws);
    Children c = render_children(ws, input, config_);
    bool first = !deployments_->store().get(key);
    apply_home_claim(ws, c.home_claim);
    apply_if_changed(*client_, refs::deployments(), c.deployment, deployments_->store().get(key));
    apply_if_changed(*client_, refs::services(), c.service, services_->store().get(key));
    apply_if_changed(*client_, refs::ingresses(), c.ingress, ingresses_->store().get(key));
    apply_if_changed(*client_, refs::networkpolicies(), c.network_policy,
                     network_policies_->store().get(key));
    return first;
  }

  // A claim is created once: its size and class cannot change afterwards (the volume already
  // exists). Only its owner reference follows spec.homeRetention, so switching to Retain before
  // deleting a Workspace keeps the home, and a retained home is adopted again under Delete.
  void apply_home_claim(const json& ws, const json& desired) {
    const json& md = desired.at("metadata");
    ObjectPtr cached = pvcs_->store().get(md.value("namespace", "") + "/" + md.value("name", ""));
    if (!cached) {
      client_->apply(refs::pvcs(), desired);
      return;
    }
    const std::string uid = ws.at("metadata").value("uid", "");
    bool want_owner = md.contains("ownerReferences");
    if (owned_by(*cached, uid) == want_owner) return;
    json owners = json::array();
    for (const auto& ref : cached->at("metadata").value("ownerReferences", json::array()))
      if (ref.value("uid", "") != uid) owners.push_back(ref);
    if (want_owner) owners.push_back(owner_reference(ws));
    json patch = {{"metadata",
                   {{"resourceVersion", cached->at("metadata").value("resourceVersion", "")},
                    {"ownerReferences", owners}}}};
    client_->patch(refs::pvcs(), md.value("namespace", ""), md.value("name", ""),
                   kube::PatchType::Merge, patch);
  }

  std::shared_ptr<kube::Client> client_;
  OperatorConfig config_;
  std::shared_ptr<EventRecorder> events_;
  std::shared_ptr<runtime::Informer> workspaces_, templates_, deployments_, services_, ingresses_,
      network_policies_, pvcs_, pods_;
};

}  // namespace

void add_workspace_controller(runtime::Manager& manager, const OperatorConfig& config,
                              std::shared_ptr<EventRecorder> events) {
  auto reconciler = std::make_shared<WorkspaceReconciler>(manager, config, events);
  auto& controller = manager.add_controller(
      "workspace", manager.informer(refs::workspaces()),
      [reconciler](const std::string& key) { return reconciler->reconcile(key); });
  controller.on_terminal_error(
      report_terminal_errors(manager.client(), refs::workspaces(), events));
  reconciler->wire(controller);
}

}  // namespace rc::controllers

#include <spdlog/spdlog.h>

#include "remotecode/kube/quantity.h"
#include "remotecode/sim/cluster.h"
#include "remotecode/util/clock.h"

namespace rc::sim {

using nlohmann::json;

Cluster::Cluster(Api& api, ClusterOptions options, const PodScripts* scripts)
    : api_(api), options_(options), scripts_(scripts) {}

Cluster::~Cluster() {
  stop();
}

ResourceTypePtr Cluster::type_of_events() {
  return type("", "events");
}

ResourceTypePtr Cluster::type(const std::string& group, const char* plural) {
  for (const auto& t : api_.types().all())
    if (t->group == group && t->plural == plural && !t->custom) return t;
  return nullptr;
}

ObjPtr Cluster::get(const std::string& storage_id, const std::string& key) {
  std::lock_guard lk(api_.store().mutex());
  return api_.store().get(storage_id, key);
}

void Cluster::start() {
  bootstrap();
  std::vector<Change> restored;
  {
    std::lock_guard lk(api_.store().mutex());
    auto& store = api_.store();
    pos_ = store.oldest_watchable_rv();
    // Objects restored from a state file are older than the change history: the controllers
    // look at each once, as if it had just been added.
    for (const auto& id : store.storage_ids())
      for (const auto& o : store.list(id, "")) {
        uint64_t rv =
            std::strtoull((*o)["metadata"].value("resourceVersion", "0").c_str(), nullptr, 10);
        if (rv <= pos_) restored.push_back({0, EventType::Added, id, o, nullptr});
      }
  }
  resume_pods(restored);
  for (const auto& c : restored) dispatch(c);
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void Cluster::stop() {
  if (!running_.exchange(false)) return;
  api_.store().changed().notify_all();
  if (thread_.joinable()) thread_.join();
}

void Cluster::bootstrap() {
  WriteOptions opt;
  opt.field_manager = "kube-apiserver";
  auto ns_rt = type("", "namespaces");
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    try {
      api_.create(*ns_rt, "", {{"metadata", {{"name", ns}}}}, opt);
    } catch (const StatusError& e) {
      if (e.code() != 409) throw;
    }
  }
  auto node_rt = type("", "nodes");
  opt.field_manager = "kubelet";
  auto add_node = [&](const std::string& name, bool gpu, int index) {
    json capacity = {
        {"cpu", "32"}, {"memory", "263941632Ki"}, {"pods", "110"}, {"ephemeral-storage", "1Ti"}};
    json labels = {{"kubernetes.io/hostname", name},
                   {"kubernetes.io/os", "linux"},
                   {"kubernetes.io/arch", "amd64"},
                   {"node.kubernetes.io/instance-type", gpu ? "sim-gpu" : "sim-cpu"}};
    json node = {{"metadata", {{"name", name}, {"labels", labels}}}, {"spec", json::object()}};
    if (gpu) {
      capacity["nvidia.com/gpu"] = std::to_string(options_.gpus_per_node);
      node["metadata"]["labels"]["nvidia.com/gpu.present"] = "true";
      node["metadata"]["labels"]["nvidia.com/gpu.product"] = options_.gpu_product;
      node["metadata"]["labels"]["nvidia.com/gpu.count"] = std::to_string(options_.gpus_per_node);
      node["metadata"]["labels"]["nvidia.com/gpu.memory"] = "81920";
      node["spec"]["taints"] = json::array(
          {{{"key", "nvidia.com/gpu"}, {"value", "present"}, {"effect", "NoSchedule"}}});
    }
    std::string now = util::now_rfc3339();
    node["status"] = {
        {"capacity", capacity},
        {"allocatable", capacity},
        {"conditions", json::array({{{"type", "Ready"},
                                     {"status", "True"},
                                     {"reason", "KubeletReady"},
                                     {"message", "kubelet is posting ready status"},
                                     {"lastHeartbeatTime", now},
                                     {"lastTransitionTime", now}}})},
        {"addresses",
         json::array({{{"type", "InternalIP"}, {"address", "10.0.0." + std::to_string(10 + index)}},
                      {{"type", "Hostname"}, {"address", name}}})},
        {"nodeInfo",
         {{"kubeletVersion", "v1.32.0"},
          {"osImage", "remote-code simulated node"},
          {"kernelVersion", "6.1.0-sim"},
          {"containerRuntimeVersion", "containerd://1.7.0-sim"},
          {"architecture", "amd64"},
          {"operatingSystem", "linux"},
          {"machineID", ""},
          {"systemUUID", ""},
          {"bootID", ""},
          {"kubeProxyVersion", ""}}}};
    try {
      // Nodes register themselves with status, as a kubelet does (create, then status).
      json created = api_.create(*node_rt, "", node, opt);
      created["status"] = node["status"];
      WriteOptions sopt = opt;
      sopt.status = true;
      api_.update(*node_rt, "", name, created, sopt);
    } catch (const StatusError& e) {
      if (e.code() != 409) throw;
    }
  };
  int index = 0;
  for (int i = 0; i < options_.gpu_nodes; ++i)
    add_node("gpu-node-" + std::to_string(i), true, index++);
  for (int i = 0; i < options_.cpu_nodes; ++i)
    add_node("cpu-node-" + std::to_string(i), false, index++);
}

void Cluster::after(double seconds, const std::string& kind, const std::string& key) {
  auto at = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  timers_.emplace(at, std::make_pair(kind, key));
}

void Cluster::run_due_timers() {
  auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto [kind, key] = timers_.begin()->second;
    timers_.erase(timers_.begin());
    if (kind == "pod")
      dirty_pods_.insert(key);
    else if (kind == "deployment")
      dirty_deployments_.insert(key);
    else if (kind == "job")
      dirty_jobs_.insert(key);
    else if (kind == "namespace")
      dirty_namespaces_.insert(key);
    else if (kind == "schedule")
      reschedule_ = true;
    else if (kind == "crd")
      dirty_crds_.insert(key);
    else if (kind == "gc")
      gc_owner_keys_.insert(key);
  }
}

namespace {
std::string owner_key(const json& obj, const char* kind) {
  for (const auto& r : obj["metadata"].value("ownerReferences", json::array()))
    if (r.value("kind", "") == kind && r.value("controller", false))
      return object_key(obj["metadata"].value("namespace", ""), r.value("name", ""));
  return "";
}
}  // namespace

void Cluster::dispatch(const Change& c) {
  const json& obj = *c.object;
  const auto& md = obj["metadata"];
  std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
  const std::string& id = c.storage_id;
  if (c.type == EventType::Deleted) {
    std::string uid = md.value("uid", "");
    if (!uid.empty()) gc_deleted_uids_.insert(uid);
  }
  if (c.type == EventType::Added && md.contains("ownerReferences"))
    dangling_checks_.insert(id + "|" + key);
  if (md.contains("deletionTimestamp")) gc_owner_keys_.insert(id + "|" + key);
  // Owners waiting in foreground deletion look again when a dependent goes.
  if (c.type == EventType::Deleted)
    for (const auto& r : md.value("ownerReferences", json::array())) {
      std::lock_guard lk(api_.store().mutex());
      if (auto ref = api_.store().find_uid(r.value("uid", "")))
        gc_owner_keys_.insert(ref->storage_id + "|" + ref->key);
    }

  if (id == "/pods") {
    dirty_pods_.insert(key);
    if (auto d = owner_key(obj, "Deployment"); !d.empty()) dirty_deployments_.insert(d);
    if (auto j = owner_key(obj, "Job"); !j.empty()) dirty_jobs_.insert(j);
    dirty_quota_ns_.insert(md.value("namespace", ""));
    if (c.type == EventType::Deleted) {
      track_bound(key, nullptr);
      pending_pods_.erase(key);
      pod_starts_at_.erase(key);
      reschedule_ = true;
      std::lock_guard lk(logs_mu_);
      logs_.erase(md.value("uid", ""));
      pod_uid_by_key_.erase(key);
    } else {
      track_bound(key, &obj);
    }
  } else if (id == "apps/deployments") {
    dirty_deployments_.insert(key);
  } else if (id == "batch/jobs") {
    dirty_jobs_.insert(key);
  } else if (id == "/namespaces") {
    dirty_namespaces_.insert(md.value("name", ""));
  } else if (id == "/persistentvolumeclaims" && c.type != EventType::Deleted) {
    dirty_pvcs_.insert(key);
  } else if (id == "networking.k8s.io/ingresses" && c.type != EventType::Deleted) {
    dirty_ingresses_.insert(key);
  } else if (id == "/resourcequotas" && c.type != EventType::Deleted) {
    dirty_quota_ns_.insert(md.value("namespace", ""));
  } else if (id == "apiextensions.k8s.io/customresourcedefinitions") {
    if (c.type == EventType::Deleted)
      api_.types().remove_crd(md.value("name", ""));
    else
      dirty_crds_.insert(md.value("name", ""));
  } else if (id == "/nodes") {
    reschedule_ = true;
  }
  // Namespaces being emptied look again whenever something in them goes.
  if (c.type == EventType::Deleted && !md.value("namespace", "").empty())
    dirty_namespaces_.insert(md.value("namespace", ""));
}

void Cluster::loop() {
  auto& store = api_.store();
  std::vector<Change> changes;
  while (running_) {
    changes.clear();
    {
      std::unique_lock lk(store.mutex());
      if (!store.changes_since(pos_, changes, 5000)) {
        // Fell behind the history: resynchronise by reconciling everything.
        spdlog::warn("sim: cluster controllers fell behind the change history; resyncing");
        pos_ = store.current_rv();
        for (const auto& id : store.storage_ids())
          for (const auto& o : store.list(id, "")) {
            Change c{0, EventType::Modified, id, o, o};
            changes.push_back(c);
          }
      } else if (changes.empty() && timers_.empty() && dirty_pods_.empty() && !reschedule_) {
        store.changed().wait_for(lk, std::chrono::milliseconds(200));
        store.changes_since(pos_, changes, 5000);
      } else if (changes.empty()) {
        auto wake = timers_.empty() ? Clock::now() + std::chrono::milliseconds(200)
                                    : std::min(timers_.begin()->first,
                                               Clock::now() + std::chrono::milliseconds(200));
        store.changed().wait_until(lk, wake);
        store.changes_since(pos_, changes, 5000);
      }
    }
    for (const auto& c : changes) {
      if (c.rv) pos_ = std::max(pos_, c.rv);
      dispatch(c);
    }
    run_due_timers();
    try {
      auto take = [](std::set<std::string>& s) {
        std::set<std::string> out;
        out.swap(s);
        return out;
      };
      for (const auto& uid : take(gc_deleted_uids_)) garbage_collect_deleted(uid);
      for (const auto& k : take(gc_owner_keys_)) {
        auto bar = k.find('|');
        garbage_collect_owner(k.substr(0, bar), k.substr(bar + 1));
      }
      for (const auto& k : take(dangling_checks_)) {
        auto bar = k.find('|');
        check_dangling_owners(k.substr(0, bar), k.substr(bar + 1));
      }
      for (const auto& n : take(dirty_crds_)) reconcile_crd(n);
      for (const auto& n : take(dirty_namespaces_)) reconcile_namespace(n);
      for (const auto& k : take(dirty_deployments_)) reconcile_deployment(k);
      for (const auto& k : take(dirty_jobs_)) reconcile_job(k);
      for (const auto& k : take(dirty_pods_)) reconcile_pod(k);
      if (reschedule_ || !pending_pods_.empty()) schedule_pending();
      for (const auto& k : take(dirty_pvcs_)) reconcile_pvc(k);
      for (const auto& k : take(dirty_ingresses_)) reconcile_ingress(k);
      for (const auto& ns : take(dirty_quota_ns_)) reconcile_quota_namespace(ns);
    } catch (const std::exception& e) {
      spdlog::error("sim: cluster controller error: {}", e.what());
    }
  }
}

bool Cluster::write_status(const char* plural, const std::string& group, json obj,
                           const std::string& manager) {
  auto rt = type(group, plural);
  WriteOptions opt;
  opt.field_manager = manager;
  opt.status = true;
  const auto& md = obj["metadata"];
  try {
    api_.update(*rt, md.value("namespace", ""), md.value("name", ""), obj, opt);
    return true;
  } catch (const StatusError& e) {
    if (e.code() != 409 && e.code() != 404) spdlog::warn("sim: status update failed: {}", e.what());
    return false;
  }
}

void Cluster::record_event(const json& obj, const std::string& kind, const std::string& type,
                           const std::string& reason, const std::string& message,
                           const std::string& component) {
  const auto& md = obj["metadata"];
  if (!reported_events_.insert(md.value("uid", "") + "|" + reason + "|" + message).second) return;
  std::string now = util::now_rfc3339();
  std::string ns = md.value("namespace", "default");
  json ev = {{"metadata", {{"generateName", md.value("name", "") + "."}}},
             {"involvedObject",
              {{"kind", kind},
               {"namespace", md.value("namespace", "")},
               {"name", md.value("name", "")},
               {"uid", md.value("uid", "")},
               {"apiVersion", obj.value("apiVersion", "")},
               {"resourceVersion", md.value("resourceVersion", "")}}},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"source", {{"component", component}}},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1},
             {"reportingComponent", component},
             {"reportingInstance", ""}};
  WriteOptions opt;
  opt.field_manager = component;
  try {
    api_.create(*type_of_events(), ns, ev, opt);
  } catch (const StatusError& e) {
    spdlog::debug("sim: event not recorded: {}", e.what());
  }
}

void Cluster::delete_object(const char* plural, const std::string& group, const json& obj,
                            const char* propagation, std::optional<int64_t> grace) {
  auto rt = type(group, plural);
  DeleteOptions opt;
  if (propagation) opt.propagation = propagation;
  opt.grace_period_seconds = grace;
  opt.precondition_uid = obj["metadata"].value("uid", "");
  try {
    api_.remove(*rt, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""),
                opt);
  } catch (const StatusError& e) {
    if (e.code() != 404 && e.code() != 409) spdlog::warn("sim: delete failed: {}", e.what());
  }
}

namespace {
constexpr const char* kRootCaConfigMap = "kube-root-ca.crt";
constexpr const char* kRootCaDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";
}  // namespace

void Cluster::reconcile_namespace(const std::string& name) {
  auto ns = get("/namespaces", object_key("", name));
  if (!ns) return;
  if (!(*ns)["metadata"].contains("deletionTimestamp")) {
    // The service account controller gives every namespace its "default" account.
    WriteOptions opt;
    opt.field_manager = "kube-controller-manager";
    if (!get("/serviceaccounts", object_key(name, "default"))) {
      try {
        api_.create(*type("", "serviceaccounts"), name, {{"metadata", {{"name", "default"}}}}, opt);
      } catch (const StatusError&) {
      }
    }
    // The root CA publisher gives every namespace the CA that verifies the API server.
    if (!options_.root_ca_pem.empty() && !get("/configmaps", object_key(name, kRootCaConfigMap))) {
      json cm = {{"metadata",
                  {{"name", kRootCaConfigMap},
                   {"annotations", {{"kubernetes.io/description", kRootCaDescription}}}}},
                 {"data", {{"ca.crt", options_.root_ca_pem}}}};
      try {
        api_.create(*type("", "configmaps"), name, cm, opt);
      } catch (const StatusError&) {
      }
    }
    return;
  }
  // Terminating: delete everything in it, then let it go.
  size_t remaining = 0;
  for (const auto& t : api_.types().all()) {
    if (!t->namespaced) continue;
    if (t->custom && !t->crd_version.value("storage", false)) continue;
    std::vector<ObjPtr> objs;
    {
      std::lock_guard lk(api_.store().mutex());
      objs = api_.store().list(t->id(), name);
    }
    remaining += objs.size();
    for (const auto& o : objs) {
      if ((*o)["metadata"].contains("deletionTimestamp")) continue;
      DeleteOptions opt;
      opt.propagation = "Background";
      opt.grace_period_seconds = 0;
      try {
        api_.remove(*t, name, (*o)["metadata"].value("name", ""), opt);
      } catch (const StatusError&) {
      }
    }
  }
  if (remaining > 0) {
    // The namespace controller says what keeps the namespace.
    std::map<std::string, int> finalizers;
    std::vector<std::string> kinds;
    for (const auto& t : api_.types().all()) {
      if (!t->namespaced || (t->custom && !t->crd_version.value("storage", false))) continue;
      std::vector<ObjPtr> objs;
      {
        std::lock_guard lk(api_.store().mutex());
        objs = api_.store().list(t->id(), name);
      }
      if (objs.empty()) continue;
      kinds.push_back(t->group_resource() + " has " + std::to_string(objs.size()) +
                      " resource instances");
      for (const auto& o : objs)
        for (const auto& f : (*o)["metadata"].value("finalizers", json::array()))
          ++finalizers[f.get<std::string>()];
    }
    std::string now = util::now_rfc3339();
    auto cond = [&](const char* type, bool status, const char* reason, const std::string& msg) {
      json c = {{"type", type},
                {"status", status ? "True" : "False"},
                {"lastTransitionTime", now},
                {"reason", reason}};
      if (!msg.empty()) c["message"] = msg;
      return c;
    };
    std::string content = "Some resources are remaining: ";
    for (size_t i = 0; i < kinds.size(); ++i) content += (i ? ", " : "") + kinds[i];
    std::string fin = "Some content in the namespace has finalizers remaining: ";
    size_t i = 0;
    for (const auto& [f, n] : finalizers)
      fin += (i++ ? ", " : "") + f + " in " + std::to_string(n) + " resource instances";
    json conds = json::array(
        {cond("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
              "All resources successfully discovered"),
         cond("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
              "All legacy kube types successfully parsed"),
         cond("NamespaceDeletionContentFailure", false, "ContentDeleted",
              "All content successfully deleted, may be waiting on finalization"),
         cond("NamespaceContentRemaining", true, "SomeResourcesRemain", content),
         finalizers.empty()
             ? cond("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                    "All content-preserving finalizers finished")
             : cond("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain", fin)});
    auto old_conds = (*ns)["status"].value("conditions", json::array());
    bool same = old_conds.size() == conds.size();
    for (size_t k = 0; same && k < conds.size(); ++k)
      same = old_conds[k].value("message", "") == conds[k].value("message", "") &&
             old_conds[k].value("status", "") == conds[k].value("status", "");
    if (!same) {
      json obj = *ns;
      obj["status"]["conditions"] = conds;
      write_status("namespaces", "", obj, "kube-controller-manager");
    }
  }
  if (remaining == 0) {
    json obj = *ns;
    obj["spec"]["finalizers"] = json::array();
    std::lock_guard lk(api_.store().mutex());
    auto cur = api_.store().get("/namespaces", object_key("", name));
    if (cur) api_.store().remove("/namespaces", object_key("", name), obj);
  } else {
    after(0.2, "namespace", name);
  }
}

void Cluster::garbage_collect_deleted(const std::string& uid) {
  std::vector<ObjectRef> deps;
  {
    std::lock_guard lk(api_.store().mutex());
    deps = api_.store().dependents(uid);
  }
  for (const auto& d : deps) check_dangling_owners(d.storage_id, d.key);
}

void Cluster::check_dangling_owners(const std::string& storage_id, const std::string& key) {
  ObjPtr obj;
  bool all_gone = true;
  {
    std::lock_guard lk(api_.store().mutex());
    obj = api_.store().get(storage_id, key);
    if (!obj) return;
    auto refs = (*obj)["metadata"].value("ownerReferences", json::array());
    if (refs.empty()) return;
    for (const auto& r : refs)
      if (api_.store().find_uid(r.value("uid", ""))) all_gone = false;
  }
  if (!all_gone || (*obj)["metadata"].contains("deletionTimestamp")) return;
  auto rt = api_.types().by_storage_id(storage_id);
  if (!rt) return;
  DeleteOptions opt;
  opt.propagation = "Background";
  opt.precondition_uid = (*obj)["metadata"].value("uid", "");
  try {
    api_.remove(*rt, (*obj)["metadata"].value("namespace", ""),
                (*obj)["metadata"].value("name", ""), opt);
  } catch (const StatusError&) {
  }
}

void Cluster::garbage_collect_owner(const std::string& storage_id, const std::string& key) {
  ObjPtr owner = get(storage_id, key);
  if (!owner || !(*owner)["metadata"].contains("deletionTimestamp")) return;
  auto rt = api_.types().by_storage_id(storage_id);
  if (!rt) return;
  const json finalizers = (*owner)["metadata"].value("finalizers", json::array());
  auto has = [&](const char* f) {
    return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
  };
  if (!has("orphan") && !has("foregroundDeletion")) return;
  std::string uid = (*owner)["metadata"].value("uid", "");
  std::vector<ObjectRef> deps;
  {
    std::lock_guard lk(api_.store().mutex());
    deps = api_.store().dependents(uid);
  }
  WriteOptions wopt;
  wopt.field_manager = "kube-controller-manager";
  bool waiting = false;
  for (const auto& d : deps) {
    auto drt = api_.types().by_storage_id(d.storage_id);
    ObjPtr dep = get(d.storage_id, d.key);
    if (!drt || !dep) continue;
    const auto& dmd = (*dep)["metadata"];
    try {
      if (has("orphan")) {
        json kept = json::array();
        for (const auto& r : dmd.value("ownerReferences", json::array()))
          if (r.value("uid", "") != uid) kept.push_back(r);
        json p = {{"metadata", {{"ownerReferences", kept.empty() ? json(nullptr) : kept}}}};
        api_.patch(*drt, dmd.value("namespace", ""), dmd.value("name", ""),
                   "application/merge-patch+json", p.dump(), wopt);
      } else {
        waiting = true;
        if (!dmd.contains("deletionTimestamp")) {
          DeleteOptions dopt;
          dopt.propagation = "Foreground";
          api_.remove(*drt, dmd.value("namespace", ""), dmd.value("name", ""), dopt);
        }
      }
    } catch (const StatusError&) {
      waiting = true;
    }
  }
  if (waiting) return;  // a dependent's deletion brings this owner back here
  json newf = json::array();
  for (const auto& f : finalizers)
    if (f != "orphan" && f != "foregroundDeletion") newf.push_back(f);
  json p = {{"metadata", {{"finalizers", newf.empty() ? json(nullptr) : newf}}}};
  try {
    api_.patch(*rt, (*owner)["metadata"].value("namespace", ""),
               (*owner)["metadata"].value("name", ""), "application/merge-patch+json", p.dump(),
               wopt);
  } catch (const StatusError&) {
    after(0.1, "gc", storage_id + "|" + key);
  }
}

void Cluster::reconcile_pvc(const std::string& key) {
  auto pvc = get("/persistentvolumeclaims", key);
  if (!pvc || (*pvc)["status"].value("phase", "") == "Bound") return;
  json obj = *pvc;
  // Binding names the volume in spec (a controller write) and sets status.
  std::string volume = "pvc-" + obj["metadata"].value("uid", "");
  if (obj["spec"].value("volumeName", "") != volume) {
    WriteOptions opt;
    opt.field_manager = "kube-controller-manager";
    json p = {{"spec", {{"volumeName", volume}}}};
    try {
      obj = api_.patch(*type("", "persistentvolumeclaims"), obj["metadata"].value("namespace", ""),
                       obj["metadata"].value("name", ""), "application/merge-patch+json", p.dump(),
                       opt);
    } catch (const StatusError&) {
      return;
    }
  }
  obj["status"] = {
      {"phase", "Bound"},
      {"accessModes", obj["spec"].value("accessModes", json::array())},
      {"capacity", {{"storage", obj["spec"]["resources"]["requests"].value("storage", "1Gi")}}}};
  write_status("persistentvolumeclaims", "", obj, "kube-controller-manager");
}

void Cluster::reconcile_ingress(const std::string& key) {
  auto ing = get("networking.k8s.io/ingresses", key);
  if (!ing || (*ing)["metadata"].contains("deletionTimestamp")) return;
  json obj = *ing;
  json want = {{"loadBalancer", {{"ingress", json::array({{{"ip", "127.0.0.1"}}})}}}};
  if (obj.value("status", json::object()) == want) return;
  obj["status"] = want;
  write_status("ingresses", "networking.k8s.io", obj, "ingress-controller");
}

void Cluster::reconcile_quota_namespace(const std::string& ns) {
  std::vector<ObjPtr> quotas, pods;
  {
    std::lock_guard lk(api_.store().mutex());
    quotas = api_.store().list("/resourcequotas", ns);
    if (quotas.empty()) return;
    pods = api_.store().list("/pods", ns);
  }
  std::map<std::string, double> used;
  for (const auto& p : pods) {
    std::string phase = (*p)["status"].value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") continue;
    used["pods"] += 1;
    used["count/pods"] += 1;
    for (const auto& c : (*p)["spec"].value("containers", json::array())) {
      auto res = c.value("resources", json::object());
      for (const char* kind : {"requests", "limits"})
        for (const json items_src = res.value(kind, json::object());
             const auto& [name, q] : items_src.items()) {
          auto v = kube::parse_quantity(q);
          if (!v) continue;
          used[std::string(kind) + "." + name] += *v;
          if (std::string(kind) == "requests" && (name == "cpu" || name == "memory"))
            used[name] += *v;
        }
    }
  }
  for (const auto& q : quotas) {
    json obj = *q;
    json hard = obj["spec"].value("hard", json::object());
    json u = json::object();
    for (auto& [name, v] : hard.items()) u[name] = kube::format_quantity(used[name]);
    json status = {{"hard", hard}, {"used", u}};
    if (obj.value("status", json::object()) == status) continue;
    obj["status"] = status;
    write_status("resourcequotas", "", obj, "kube-controller-manager");
  }
}

void Cluster::reconcile_crd(const std::string& name) {
  auto crd = get("apiextensions.k8s.io/customresourcedefinitions", object_key("", name));
  if (!crd) return;
  if (!(*crd)["metadata"].contains("deletionTimestamp")) {
    // The names controller: accept the names (or say why not) and establish the CRD.
    json obj = *crd;
    auto& st = obj["status"];
    if (st.value("acceptedNames", json::object()).value("plural", "") ==
            obj["spec"]["names"].value("plural", "") &&
        st.contains("conditions") && st["conditions"].is_array())
      return;
    std::string clash = api_.types().add_crd(obj);
    std::string now = util::now_rfc3339();
    if (!clash.empty()) {
      st["conditions"] = json::array({{{"type", "NamesAccepted"},
                                       {"status", "False"},
                                       {"reason", "NameConflict"},
                                       {"message", clash},
                                       {"lastTransitionTime", now}},
                                      {{"type", "Established"},
                                       {"status", "False"},
                                       {"reason", "NotAccepted"},
                                       {"message", "not all names are accepted"},
                                       {"lastTransitionTime", now}}});
    } else {
      st["acceptedNames"] = obj["spec"]["names"];
      st["conditions"] = json::array({{{"type", "NamesAccepted"},
                                       {"status", "True"},
                                       {"reason", "NoConflicts"},
                                       {"message", "no conflicts found"},
                                       {"lastTransitionTime", now}},
                                      {{"type", "Established"},
                                       {"status", "True"},
                                       {"reason", "InitialNamesAccepted"},
                                       {"message", "the initial names have been accepted"},
                                       {"lastTransitionTime", now}}});
    }
    if (!write_status("customresourcedefinitions", "apiextensions.k8s.io", obj, "kube-apiserver"))
      after(0.05, "crd", name);
    return;
  }
  json spec = (*crd)["spec"];
  std::string id = spec.value("group", "") + "/" + spec["names"].value("plural", "");
  // Custom resource cleanup: every instance goes (its own finalizers honoured), then the CRD.
  std::vector<ObjPtr> objs;
  {
    std::lock_guard lk(api_.store().mutex());
    objs = api_.store().list(id, "");
  }
  auto rt = api_.types().by_storage_id(id);
  {
    json obj = *crd;
    json conds = obj["status"].value("conditions", json::array());
    if (!conds.is_array()) conds = json::array();
    bool changed = false;
    for (auto& c : conds)
      if (c.value("type", "") == "Terminating" &&
          c.value("reason", "") != "InstanceDeletionInProgress") {
        c["reason"] = "InstanceDeletionInProgress";
        c["message"] = "CustomResource deletion is in progress";
        changed = true;
      }
    if (changed) {
      obj["status"]["conditions"] = conds;
      write_status("customresourcedefinitions", "apiextensions.k8s.io", obj, "kube-apiserver");
    }
  }
  for (const auto& o : objs) {
    if ((*o)["metadata"].contains("deletionTimestamp") || !rt) continue;
    DeleteOptions opt;
    opt.propagation = "Background";
    try {
      api_.remove(*rt, (*o)["metadata"].value("namespace", ""), (*o)["metadata"].value("name", ""),
                  opt);
    } catch (const StatusError&) {
    }
  }
  if (!objs.empty()) {
    after(0.1, "crd", name);
    return;
  }
  json finalizers = json::array();
  for (const auto& f : (*crd)["metadata"].value("finalizers", json::array()))
    if (f != "customresourcecleanup.apiextensions.k8s.io") finalizers.push_back(f);
  json p = {{"metadata", {{"finalizers", finalizers.empty() ? json(nullptr) : finalizers}}}};
  WriteOptions opt;
  opt.field_manager = "kube-apiserver";
  try {
    api_.patch(*type("apiextensions.k8s.io", "customresourcedefinitions"), "", name,
               "application/merge-patch+json", p.dump(), opt);
  } catch (const StatusError&) {
  }
}

}  // namespace rc::sim

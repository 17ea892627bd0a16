// List and map types of the built-in resources, for server-side apply (x-kubernetes-list-type,
// x-kubernetes-list-map-keys, x-kubernetes-map-type) and strategic merge patch
// (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key). Extracted from the 1.32 OpenAPI v3
// documents once; lists and maps not named here are atomic lists and granular maps.
#include <string>
#include <vector>

#include "remotecode/sim/patch.h"

namespace rc::sim {
namespace {

using Path = std::vector<std::string>;
using nlohmann::json;

// Where a PodSpec and an ObjectMeta sit in the built-in types.
const std::vector<Path> kPodSpecAt = {
    {"spec"}, {"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}};
const std::vector<Path> kObjectMetaAt = {{"metadata"},
                                         {"spec", "template", "metadata"},
                                         {"spec", "jobTemplate", "metadata"},
                                         {"spec", "jobTemplate", "spec", "template", "metadata"}};
const char* const kContainerLists[] = {"containers", "initContainers", "ephemeralContainers"};

struct Rule {
  Path rel;
  ListSemantics sem;
};

ListSemantics map_of(std::vector<std::string> keys, json defaults = json::object()) {
  return ListSemantics{ListSemantics::Map, std::move(keys), std::move(defaults)};
}
ListSemantics set_of() {
  return ListSemantics{ListSemantics::Set, {}, json::object()};
}

const json kTcp = {{"protocol", "TCP"}};

std::vector<Rule> pod_spec_lists(bool smp) {
  std::vector<Rule> r;
  for (const char* c : kContainerLists) {
    r.push_back({{c}, map_of({"name"})});
    r.push_back({{c, "env"}, map_of({"name"})});
    r.push_back({{c, "ports"},
                 smp ? map_of({"containerPort"}) : map_of({"containerPort", "protocol"}, kTcp)});
    r.push_back({{c, "volumeMounts"}, map_of({"mountPath"})});
    r.push_back({{c, "volumeDevices"}, map_of({"devicePath"})});
    if (!smp) r.push_back({{c, "resources", "claims"}, map_of({"name"})});
  }
  r.push_back({{"volumes"}, map_of({"name"})});
  r.push_back({{"imagePullSecrets"}, map_of({"name"})});
  r.push_back({{"hostAliases"}, map_of({"ip"})});
  r.push_back({{"schedulingGates"}, map_of({"name"})});
  r.push_back({{"resourceClaims"}, map_of({"name"})});
  r.push_back({{"topologySpreadConstraints"},
               smp ? map_of({"topologyKey"}) : map_of({"topologyKey", "whenUnsatisfiable"})});
  if (!smp) r.push_back({{"resources", "claims"}, map_of({"name"})});
  return r;
}

std::vector<Rule> object_meta_lists() {
  return {{{"finalizers"}, set_of()}, {{"ownerReferences"}, map_of({"uid"})}};
}

// Lists at fixed paths from the object root.
std::vector<Rule> root_lists(bool smp) {
  std::vector<Rule> r = {
      {{"status", "conditions"}, map_of({"type"})},  // Pod, Deployment, Service, Node, ...
      {{"status", "podIPs"}, map_of({"ip"})},        // Pod
      {{"status", "resourceClaimStatuses"}, map_of({"name"})},  // Pod
      {{"status", "addresses"}, map_of({"type"})},              // Node
      {{"spec", "podCIDRs"}, set_of()},                         // Node
      {{"secrets"}, map_of({"name"})},                          // ServiceAccount
      {{"spec", "ports"}, smp ? map_of({"port"}) : map_of({"port", "protocol"}, kTcp)},  // Service
  };
  if (smp) {
    r.push_back({{"status", "hostIPs"}, map_of({"ip"})});
  } else {
    r.push_back({{"status", "uncountedTerminatedPods", "failed"}, set_of()});     // Job
    r.push_back({{"status", "uncountedTerminatedPods", "succeeded"}, set_of()});  // Job
  }
  return r;
}

bool ends_as(const Path& path, const Path& prefix, const Path& rel) {
  if (path.size() != prefix.size() + rel.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (path[i] != prefix[i]) return false;
  for (size_t i = 0; i < rel.size(); ++i)
    if (path[prefix.size() + i] != rel[i]) return false;
  return true;
}

ListSemantics lookup(const Path& path, bool smp) {
  static const std::vector<Rule> ssa_pod = pod_spec_lists(false), smp_pod = pod_spec_lists(true);
  static const std::vector<Rule> meta = object_meta_lists();
  static const std::vector<Rule> ssa_root = root_lists(false), smp_root = root_lists(true);
  for (const auto& rule : smp ? smp_root : ssa_root)
    if (path == rule.rel) return rule.sem;
  for (const auto& at : kObjectMetaAt)
    for (const auto& rule : meta)
      if (ends_as(path, at, rule.rel)) return rule.sem;
  for (const auto& at : kPodSpecAt)
    for (const auto& rule : smp ? smp_pod : ssa_pod)
      if (ends_as(path, at, rule.rel)) return rule.sem;
  return ListSemantics{};
}

// Atomic maps that sit outside atomic lists (inside one they are atomic anyway).
bool atomic_map(const Path& path) {
  static const std::vector<Path> root = {
      {"spec", "selector"},                           // Deployment, Job, Service, PVC, ...
      {"spec", "podSelector"},                        // NetworkPolicy
      {"spec", "scopeSelector"},                      // ResourceQuota
      {"spec", "dataSource"},                         // PVC
      {"spec", "defaultBackend", "resource"},         // Ingress
      {"spec", "defaultBackend", "service", "port"},  // Ingress
      {"involvedObject"},                             // Event
      {"related"},                                    // Event
      {"regarding"},                                  // events.k8s.io Event
      {"secrets"},                                    // ServiceAccount: ObjectReference items
      {"spec", "jobTemplate", "spec", "selector"},    // CronJob
  };
  static const std::vector<Path> pod = [] {
    std::vector<Path> p = {
        {"nodeSelector"},
        {"imagePullSecrets"},
        {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"},
        {"topologySpreadConstraints", "labelSelector"},
        {"volumes", "csi", "nodePublishSecretRef"},
        {"volumes", "ephemeral", "volumeClaimTemplate", "spec", "dataSource"},
        {"volumes", "ephemeral", "volumeClaimTemplate", "spec", "selector"}};
    for (const char* v : {"cephfs", "cinder", "flexVolume", "iscsi", "rbd", "scaleIO", "storageos"})
      p.push_back({"volumes", v, "secretRef"});
    for (const char* c : kContainerLists)
      for (const char* ref : {"configMapKeyRef", "fieldRef", "resourceFieldRef", "secretKeyRef"})
        p.push_back({c, "env", "valueFrom", ref});
    return p;
  }();
  for (const auto& p : root)
    if (path == p) return true;
  for (const auto& at : kObjectMetaAt)
    if (ends_as(path, at, {"ownerReferences"})) return true;
  for (const auto& at : kPodSpecAt)
    for (const auto& rel : pod)
      if (ends_as(path, at, rel)) return true;
  return false;
}

}  // namespace

ListSemantics builtin_list_semantics(const std::vector<std::string>& path, const json&) {
  return lookup(path, false);
}

bool builtin_atomic_map(const std::vector<std::string>& path) {
  return atomic_map(path);
}

FieldSemantics builtin_field_semantics(const std::string& kind) {
  ListSemanticsFn lists = builtin_list_semantics;
  // JobStatus.conditions is x-kubernetes-list-type: atomic, unlike every other status.conditions.
  if (kind == "Job" || kind == "CronJob") {
    lists = [](const Path& path, const json& list) {
      if (path == Path{"status", "conditions"}) return ListSemantics{};
      return builtin_list_semantics(path, list);
    };
  }
  return FieldSemantics(std::move(lists), builtin_atomic_map);
}

ListSemantics builtin_patch_semantics(const std::vector<std::string>& path, const json&) {
  return lookup(path, true);
}

}  // namespace rc::sim

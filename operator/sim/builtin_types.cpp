#include "remotecode/sim/resource_type.h"

namespace rc::sim {
namespace {

ResourceType make(std::string group, std::string version, std::string plural, std::string singular,
                  std::string kind, bool namespaced, std::vector<std::string> short_names = {},
                  std::vector<std::string> categories = {}) {
  ResourceType rt;
  rt.group = std::move(group);
  rt.version = std::move(version);
  rt.plural = std::move(plural);
  rt.singular = std::move(singular);
  rt.kind = std::move(kind);
  rt.namespaced = namespaced;
  rt.short_names = std::move(short_names);
  rt.categories = std::move(categories);
  return rt;
}

}  // namespace

std::vector<ResourceType> builtin_resource_types() {
  std::vector<ResourceType> out;

  auto ns = make("", "v1", "namespaces", "namespace", "Namespace", false, {"ns"});
  ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  ns.has_status = true;
  ns.return_deleted_object = true;
  ns.field_selectors = {"status.phase"};
  out.push_back(ns);

  auto node = make("", "v1", "nodes", "node", "Node", false, {"no"});
  node.has_status = true;
  node.field_selectors = {"spec.unschedulable"};
  out.push_back(node);

  auto pod = make("", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"});
  pod.has_status = true;
  pod.has_log = true;
  pod.return_deleted_object = true;
  pod.field_selectors = {
      "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
      "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
  out.push_back(pod);

  auto svc = make("", "v1", "services", "service", "Service", true, {"svc"}, {"all"});
  svc.has_status = true;
  svc.return_deleted_object = true;
  out.push_back(svc);

  out.push_back(make("", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}));

  auto secret = make("", "v1", "secrets", "secret", "Secret", true);
  secret.field_selectors = {"type"};
  out.push_back(secret);

  auto pvc = make("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
                  "PersistentVolumeClaim", true, {"pvc"});
  pvc.has_status = true;
  out.push_back(pvc);

  out.push_back(
      make("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}));

  auto quota = make("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, {"quota"});
  quota.has_status = true;
  out.push_back(quota);

  auto ev = make("", "v1", "events", "event", "Event", true, {"ev"});
  ev.field_selectors = {"involvedObject.kind",
                        "involvedObject.namespace",
                        "involvedObject.name",
                        "involvedObject.uid",
                        "involvedObject.apiVersion",
                        "involvedObject.resourceVersion",
                        "involvedObject.fieldPath",
                        "reason",
                        "reportingComponent",
                        "source",
                        "type"};
  out.push_back(ev);

  auto deploy =
      make("apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"});
  deploy.has_status = true;
  deploy.tracks_generation = true;
  out.push_back(deploy);

  auto job = make("batch", "v1", "jobs", "job", "Job", true, {}, {"all"});
  job.has_status = true;
  job.tracks_generation = true;
  job.orphan_by_default = true;
  job.field_selectors = {"status.successful"};
  out.push_back(job);

  auto ing = make("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"});
  ing.has_status = true;
  ing.tracks_generation = true;
  out.push_back(ing);

  auto netpol = make("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy",
                     true, {"netpol"});
  netpol.tracks_generation = true;
  out.push_back(netpol);

  out.push_back(make("coordination.k8s.io", "v1", "leases", "lease", "Lease", true));

  // Stored, not enforced (every authenticated request is allowed): enough for
  // `kubectl apply -k manifests/` against `remote-code dev`.
  const char* rbac = "rbac.authorization.k8s.io";
  out.push_back(make(rbac, "v1", "clusterroles", "clusterrole", "ClusterRole", false));
  out.push_back(
      make(rbac, "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false));
  out.push_back(make(rbac, "v1", "roles", "role", "Role", true));
  out.push_back(make(rbac, "v1", "rolebindings", "rolebinding", "RoleBinding", true));
  auto pdb = make("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget",
                  "PodDisruptionBudget", true, {"pdb"});
  pdb.has_status = true;
  pdb.tracks_generation = true;
  out.push_back(pdb);

  auto ev2 = make("events.k8s.io", "v1", "events", "event", "Event", true, {"ev"});
  ev2.field_selectors = {"regarding.kind",
                         "regarding.namespace",
                         "regarding.name",
                         "regarding.uid",
                         "reason",
                         "reportingController",
                         "type"};
  out.push_back(ev2);

  auto crd =
      make("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
           "CustomResourceDefinition", false, {"crd", "crds"}, {"api-extensions"});
  crd.has_status = true;
  crd.tracks_generation = true;
  out.push_back(crd);

  return out;
}

}  // namespace rc::sim

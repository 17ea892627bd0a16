#include "remotecode/controllers/children.h"

#include <spdlog/spdlog.h>

#include "remotecode/api/common.h"

namespace rc::controllers {

using nlohmann::json;

json owner_reference(const json& owner) {
  const auto& md = owner.at("metadata");
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", md.value("name", "")},
          {"uid", md.value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json child_metadata(const json& owner, const std::string& name, const std::string& ns,
                    const std::string& kind_label, const json& extra_labels) {
  json labels = {{kManagedByLabel, kManagedBy},
                 {kKindLabel, kind_label},
                 {kNameLabel, owner.at("metadata").value("name", "")}};
  for (const auto& [k, v] : extra_labels.items()) labels[k] = v;
  json md = {{"name", name}, {"labels", labels}};
  if (!ns.empty()) md["namespace"] = ns;
  md["ownerReferences"] = json::array({owner_reference(owner)});
  return md;
}

bool is_subset(const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [k, v] : desired.items()) {
      auto it = live.find(k);
      if (it == live.end()) {
        // An empty object or list we render is the same as the field left out.
        if ((v.is_object() || v.is_array()) && v.empty()) continue;
        return false;
      }
      if (!is_subset(v, *it)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i)
      if (!is_subset(desired[i], live[i])) return false;
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  return desired == live;
}

bool apply_if_changed(kube::Client& client, const kube::ResourceRef& ref, const json& desired,
                      const runtime::ObjectPtr& cached) {
  if (cached) {
    // Compare what we own: everything but status, which the child's own controller writes.
    json want = desired;
    want.erase("status");
    if (is_subset(want, *cached)) return false;
  }
  client.apply(ref, desired);
  const auto& md = desired.at("metadata");
  spdlog::debug("applied {} {}/{}", ref.resource, md.value("namespace", ""), md.value("name", ""));
  return true;
}

bool delete_if_present(kube::Client& client, const kube::ResourceRef& ref,
                       const runtime::ObjectPtr& cached) {
  if (!cached) return false;
  const auto& md = (*cached).at("metadata");
  if (md.contains("deletionTimestamp")) return false;
  kube::DeleteOptions opts;
  opts.propagation = "Background";
  opts.precondition_uid = md.value("uid", "");
  try {
    client.remove(ref, md.value("namespace", ""), md.value("name", ""), opts);
  } catch (const kube::ApiError& e) {
    // Gone already, or replaced by a new object of the same name (uid precondition): both mean
    // there is nothing of ours left to delete.
    if (!e.not_found() && !e.conflict()) throw;
  }
  return true;
}

bool update_status_if_changed(kube::Client& client, const kube::ResourceRef& ref,
                              const json& cached_primary, const json& status) {
  if (cached_primary.value("status", json::object()) == status) return false;
  json obj = cached_primary;
  obj["status"] = status;
  client.update_status(ref, obj);
  return true;
}

namespace refs {
#define RC_REF(fn, group, version, resource, namespaced)                    \
  const kube::ResourceRef& fn() {                                           \
    static const kube::ResourceRef r{group, version, resource, namespaced}; \
    return r;                                                               \
  }
RC_REF(templates, api::kGroup, api::kVersion, "templates", false)
RC_REF(workspaces, api::kGroup, api::kVersion, "workspaces", true)
RC_REF(trainingjobs, api::kGroup, api::kVersion, "trainingjobs", true)
RC_REF(deployments, "apps", "v1", "deployments", true)
RC_REF(jobs, "batch", "v1", "jobs", true)
RC_REF(pods, "", "v1", "pods", true)
RC_REF(services, "", "v1", "services", true)
RC_REF(pvcs, "", "v1", "persistentvolumeclaims", true)
RC_REF(configmaps, "", "v1", "configmaps", true)
RC_REF(secrets, "", "v1", "secrets", true)
RC_REF(ingresses, "networking.k8s.io", "v1", "ingresses", true)
RC_REF(networkpolicies, "networking.k8s.io", "v1", "networkpolicies", true)
RC_REF(resourcequotas, "", "v1", "resourcequotas", true)
RC_REF(nodes, "", "v1", "nodes", false)
RC_REF(events, "", "v1", "events", true)
#undef RC_REF
}  // namespace refs

}  // namespace rc::controllers

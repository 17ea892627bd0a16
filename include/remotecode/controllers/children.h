// Writing children the way every controller here does: rendered JSON carrying an owner
// reference and our labels, server-side applied with field manager remote-code, and only when
// the cached child differs from what was rendered.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/kube/client.h"
#include "remotecode/runtime/informer.h"

namespace rc::controllers {

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "remote-code";
// Labels on every child: which kind and which object it belongs to.
inline constexpr const char* kKindLabel = "remotecode.dev/kind";  // workspace, trainingjob, ...
inline constexpr const char* kNameLabel = "remotecode.dev/name";

// A controller owner reference to `owner` (an object with apiVersion, kind, metadata.name/uid).
nlohmann::json owner_reference(const nlohmann::json& owner);

// metadata for a child: name, namespace ("" for cluster-scoped), the managed-by/kind/name labels
// plus `extra_labels`, and the owner reference.
nlohmann::json child_metadata(const nlohmann::json& owner, const std::string& name,
                              const std::string& ns, const std::string& kind_label,
                              const nlohmann::json& extra_labels = nlohmann::json::object());

// True when every field of `desired` is present in `live` with the same value (objects by key,
// arrays element by element with the same length, scalars by equality). Fields the server or
// other controllers add to `live` do not count as a difference.
bool is_subset(const nlohmann::json& desired, const nlohmann::json& live);

// Server-side applies `desired` unless `cached` (the informer's copy, may be null) already holds
// it. Returns true when it wrote.
bool apply_if_changed(kube::Client& client, const kube::ResourceRef& ref,
                      const nlohmann::json& desired, const runtime::ObjectPtr& cached);

// Deletes a child (background propagation); a missing one is not an error. Returns true when it
// sent a delete.
bool delete_if_present(kube::Client& client, const kube::ResourceRef& ref,
                       const runtime::ObjectPtr& cached);

// Writes `status` to the primary's status subresource (update with the cached resourceVersion,
// so a stale cache is a Conflict and the reconcile is retried) unless it equals the cached one.
// Returns true when it wrote.
bool update_status_if_changed(kube::Client& client, const kube::ResourceRef& ref,
                              const nlohmann::json& cached_primary, const nlohmann::json& status);

// The references our controllers use.
namespace refs {
const kube::ResourceRef& templates();
const kube::ResourceRef& workspaces();
const kube::ResourceRef& trainingjobs();
const kube::ResourceRef& deployments();
const kube::ResourceRef& jobs();
const kube::ResourceRef& pods();
const kube::ResourceRef& services();
const kube::ResourceRef& pvcs();
const kube::ResourceRef& configmaps();
const kube::ResourceRef& secrets();
const kube::ResourceRef& ingresses();
const kube::ResourceRef& networkpolicies();
const kube::ResourceRef& resourcequotas();
const kube::ResourceRef& nodes();
const kube::ResourceRef& events();
}  // namespace refs

}  // namespace rc::controllers

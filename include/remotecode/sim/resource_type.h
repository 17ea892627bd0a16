// What the simulator knows about one resource: names, scope, verbs, subresources and the
// behaviour switches a kube-apiserver registry strategy would hold for it.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rc::sim {

struct ResourceType {
  std::string group;
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get",
                                    "list",   "patch",  "update",           "watch"};
  bool has_status = false;  // a /status subresource
  bool has_log = false;     // pods/log
  bool tracks_generation = false;
  bool allow_unconditional_update = true;
  bool return_deleted_object = false;  // DELETE answers the object instead of a Status
  bool orphan_by_default = false;      // batch/v1 Jobs: DELETE without a policy orphans pods
  bool custom = false;
  // For custom resources: the CRD's version entry (schema, printer columns, subresources).
  nlohmann::json crd_version;
  std::string crd_name;
  // Field selectors allowed beyond metadata.name and metadata.namespace.
  std::vector<std::string> field_selectors;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // "deployments.apps" / "pods": the name used in error messages.
  std::string group_resource() const { return group.empty() ? plural : plural + "." + group; }
  // Storage identity: one storage per group and resource, whatever the version.
  std::string id() const { return group + "/" + plural; }
  std::string list_kind() const { return kind + "List"; }
};

using ResourceTypePtr = std::shared_ptr<const ResourceType>;

// The built-in resources the simulator serves (core, apps, batch, networking, coordination,
// events, apiextensions).
std::vector<ResourceType> builtin_resource_types();

}  // namespace rc::sim

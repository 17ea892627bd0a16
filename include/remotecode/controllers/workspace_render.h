// A Workspace's children as pure functions of its spec, its template and the operator's
// configuration: the home PVC, the IDE Deployment, its Service, the forward-auth Ingress and
// the NetworkPolicy. No I/O; the reconcile resolves every input from the cache first.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/api/template.h"
#include "remotecode/api/workspace.h"
#include "remotecode/controllers/config.h"
#include "remotecode/controllers/workspace_status.h"

namespace rc::controllers::workspace {

inline constexpr const char* kKindLabelValue = "workspace";  // remotecode.dev/kind on children
inline constexpr const char* kHomePath = "/home/coder";
inline constexpr const char* kDatasetsPath = "/data";
inline constexpr const char* kDefaultHomeSize = "10Gi";
inline constexpr int kIdePort = 8080;

// Everything the children are rendered from, resolved by the reconcile.
struct RenderInput {
  api::WorkspaceSpec spec;
  api::Resources resources;  // effective: the spec over the template's defaults, within its maximum
  std::string image;         // the template's image
  api::Ide ide = api::Ide::VSCode;            // VSCode or Jupyter (None never reaches rendering)
  std::optional<api::Repository> repository;  // cloned into a home that is still empty
  bool datasets_present = false;  // the PVC config.datasets_claim exists in the namespace
};

struct Children {
  nlohmann::json home_claim;
  nlohmann::json deployment;
  nlohmann::json service;
  nlohmann::json ingress;
  nlohmann::json network_policy;
};

// The Workspace checked against its Template (null when it does not exist): what to render, or
// why nothing can be rendered now (bad spec, missing, invalid or unbuilt template, too large).
struct Resolution {
  std::optional<RenderInput> input;
  std::optional<Blocker> blocker;  // exactly one of input and blocker is set
  std::optional<int64_t> gpus;     // effective GPUs once the template's defaults are known
};
Resolution resolve_workspace(const nlohmann::json& workspace, const nlohmann::json* template_object,
                             bool datasets_present);

// "/w/<namespace>/<name>": where the IDE is served, without the trailing slash.
std::string base_path(const std::string& ns, const std::string& name);
// status.url: https://<host>/w/<ns>/<name>/ with host and TLS, http:// with a host only, else
// the path alone.
std::string workspace_url(const std::string& ns, const std::string& name,
                          const OperatorConfig& config);
std::string home_claim_name(const std::string& workspace_name);  // "<name>-home"
// The labels of the workspace's pod, which the Service, NetworkPolicy and the controller's pod
// lookups select on.
nlohmann::json pod_labels(const std::string& workspace_name);

// `workspace` is the Workspace object (name, namespace, uid for the owner references).
nlohmann::json render_home_claim(const nlohmann::json& workspace, const RenderInput& in,
                                 const OperatorConfig& config);
nlohmann::json render_deployment(const nlohmann::json& workspace, const RenderInput& in,
                                 const OperatorConfig& config);
nlohmann::json render_service(const nlohmann::json& workspace);
nlohmann::json render_ingress(const nlohmann::json& workspace, const RenderInput& in,
                              const OperatorConfig& config);
nlohmann::json render_network_policy(const nlohmann::json& workspace, const OperatorConfig& config);

Children render_children(const nlohmann::json& workspace, const RenderInput& in,
                         const OperatorConfig& config);

}  // namespace rc::controllers::workspace

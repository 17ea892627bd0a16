// The home PVC and the IDE Deployment (with its clone init container) of a Workspace.
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/pod.h"
#include "remotecode/controllers/workspace_render.h"

namespace rc::controllers::workspace {

using nlohmann::json;

namespace {

// Clones the template's repository into a home that holds nothing yet (a fresh ext4 volume
// already has lost+found, and a half-finished earlier attempt leaves its work folder), through
// a work folder so that git never clones into a non-empty directory.
//
// This is not shell injection: the script text is a constant. The repository URL and ref reach
// it only as positional parameters ($1, $2) after `sh -c SCRIPT clone`, and the shell expands a
// double-quoted "$1" into exactly one word without parsing it again, so no quote, `;`, `$(...)`
// or newline in them can become a command. `--` ends git's options before the URL, the ref is
// the value of --branch (never an option of its own), and the template controller has already
// rejected URLs and refs that start with '-' or use helper transports (ext::, file::), which
// GIT_ALLOW_PROTOCOL below refuses as well.
constexpr const char* kCloneScript = R"(set -eu
home=/home/coder
work="$home/.remote-code-clone"
for entry in "$home"/* "$home"/.[!.]* "$home"/..?*; do
  [ -e "$entry" ] || continue
  case "${entry##*/}" in lost+found|.remote-code-clone) continue ;; esac
  echo "clone: $home already holds files; leaving it as it is"
  exit 0
done
rm -rf "$work"
if [ -n "$2" ]; then
  git clone --depth 1 --branch "$2" -- "$1" "$work"
else
  git clone --depth 1 -- "$1" "$work"
fi
find "$work" -mindepth 1 -maxdepth 1 -exec mv -- {} "$home"/ \;
rmdir "$work"
)";

const std::string& name_of(const json& workspace) {
  return workspace.at("metadata").at("name").get_ref<const std::string&>();
}

std::string namespace_of(const json& workspace) {
  return workspace.at("metadata").value("namespace", "");
}

json clone_container(const api::Repository& repo, const OperatorConfig& config) {
  return {{"name", "clone"},
          {"image", config.git_image},
          {"command", json::array({"sh", "-c", kCloneScript, "clone", repo.url, repo.ref})},
          {"env", json::array({{{"name", "GIT_TERMINAL_PROMPT"}, {"value", "0"}},
                               {{"name", "GIT_ALLOW_PROTOCOL"}, {"value", "http:https:ssh:git"}}})},
          {"volumeMounts", json::array({{{"name", "home"}, {"mountPath", kHomePath}}})},
          {"securityContext", container_security_context()}};
}

// code-server does not serve under a path: the Ingress strips /w/<ns>/<name> before it (see
// render_ingress), and --abs-proxy-base-path only tells its port proxy (/absproxy/<port>) the
// prefix. Jupyter serves under base_url itself and gets the full path.
json ide_command(api::Ide ide, const std::string& base) {
  if (ide == api::Ide::Jupyter)
    return json::array({"jupyter", "lab", "--ip=0.0.0.0", "--port=" + std::to_string(kIdePort),
                        "--no-browser", "--ServerApp.base_url=" + base + "/",
                        "--ServerApp.token=", "--ServerApp.password="});
  return json::array({"code-server", "--bind-addr=0.0.0.0:" + std::to_string(kIdePort),
                      "--auth=none", "--disable-telemetry", "--abs-proxy-base-path=" + base,
                      kHomePath});
}

std::string readiness_path(api::Ide ide, const std::string& base) {
  return ide == api::Ide::Jupyter ? base + "/api" : "/healthz";
}

json ide_container(const json& workspace, const RenderInput& in, const OperatorConfig& config) {
  std::string base = base_path(namespace_of(workspace), name_of(workspace));
  json mounts = json::array({{{"name", "home"}, {"mountPath", kHomePath}}});
  if (in.datasets_present)
    mounts.push_back({{"name", "datasets"}, {"mountPath", kDatasetsPath}, {"readOnly", true}});
  return {{"name", "ide"},
          {"image", in.image},
          {"command", ide_command(in.ide, base)},
          {"env", json::array({{{"name", "HOME"}, {"value", kHomePath}}})},
          {"ports",
           json::array({{{"name", "http"}, {"containerPort", kIdePort}, {"protocol", "TCP"}}})},
          {"readinessProbe",
           {{"httpGet", {{"path", readiness_path(in.ide, base)}, {"port", "http"}}},
            {"periodSeconds", 5},
            {"failureThreshold", 3}}},
          {"resources", container_resources(in.resources, config)},
          {"volumeMounts", mounts},
          {"securityContext", container_security_context()}};
}

json pod_spec(const json& workspace, const RenderInput& in, const OperatorConfig& config) {
  json volumes = json::array(
      {{{"name", "home"},
        {"persistentVolumeClaim", {{"claimName", home_claim_name(name_of(workspace))}}}}});
  if (in.datasets_present)
    volumes.push_back(
        {{"name", "datasets"},
         {"persistentVolumeClaim", {{"claimName", config.datasets_claim}, {"readOnly", true}}}});
  json spec = {{"automountServiceAccountToken", false},
               {"enableServiceLinks", false},
               {"securityContext", pod_security_context()},
               {"containers", json::array({ide_container(workspace, in, config)})},
               {"volumes", volumes}};
  if (in.repository)
    spec["initContainers"] = json::array({clone_container(*in.repository, config)});
  add_gpu_scheduling(spec, in.resources);
  return spec;
}

}  // namespace

std::string home_claim_name(const std::string& workspace_name) {
  return workspace_name + "-home";
}

json pod_labels(const std::string& workspace_name) {
  return {{kKindLabel, kKindLabelValue}, {kNameLabel, workspace_name}};
}

json render_home_claim(const json& workspace, const RenderInput& in, const OperatorConfig& config) {
  json md = child_metadata(workspace, home_claim_name(name_of(workspace)), namespace_of(workspace),
                           kKindLabelValue);
  // Retain: without an owner reference the garbage collector leaves the home behind when the
  // Workspace is deleted.
  if (in.spec.home_retention == api::HomeRetention::Retain) md.erase("ownerReferences");
  std::string size = in.resources.home_size.empty() ? kDefaultHomeSize : in.resources.home_size;
  json spec = {{"accessModes", json::array({"ReadWriteOnce"})},
               {"resources", {{"requests", {{"storage", size}}}}}};
  if (!config.storage_class.empty()) spec["storageClassName"] = config.storage_class;
  return {
      {"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"metadata", md}, {"spec", spec}};
}

json render_deployment(const json& workspace, const RenderInput& in, const OperatorConfig& config) {
  const std::string& name = name_of(workspace);
  json template_labels = pod_labels(name);
  template_labels[kManagedByLabel] = kManagedBy;
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", child_metadata(workspace, name, namespace_of(workspace), kKindLabelValue)},
          {"spec",
           {{"replicas", in.spec.running ? 1 : 0},
            // One pod at a time: the home PVC is ReadWriteOnce and the GPUs are not doubled.
            {"strategy", {{"type", "Recreate"}}},
            {"selector", {{"matchLabels", pod_labels(name)}}},
            {"template",
             {{"metadata", {{"labels", template_labels}}},
              {"spec", pod_spec(workspace, in, config)}}}}}};
}

Children render_children(const json& workspace, const RenderInput& in,
                         const OperatorConfig& config) {
  return {render_home_claim(workspace, in, config), render_deployment(workspace, in, config),
          render_service(workspace), render_ingress(workspace, in, config),
          render_network_policy(workspace, config)};
}

}  // namespace rc::controllers::workspace

#include "remotecode/controllers/template_render.h"

#include <vector>

#include "remotecode/controllers/children.h"
#include "remotecode/util/encoding.h"

namespace rc::controllers::tpl {

using nlohmann::json;

namespace {

constexpr const char* kContextVolume = "context";
constexpr const char* kDockerConfigVolume = "docker-config";

std::string name_of(const json& tpl) {
  return tpl.at("metadata").value("name", "");
}

json build_labels(const json& tpl, const std::string& hash) {
  return {{kManagedByLabel, kManagedBy},
          {kKindLabel, kBuildKind},
          {kNameLabel, name_of(tpl)},
          {kBuildHashLabel, hash}};
}

// Kaniko unpacks the base image and runs RUN steps as root inside its own container, so the
// restricted profile (non-root, no capabilities) cannot apply. It gets root without privilege
// escalation or extra privileges, RuntimeDefault seccomp, and only the capabilities image builds
// need: CHOWN, DAC_OVERRIDE and FOWNER to unpack and snapshot files owned by other users,
// SETUID and SETGID for steps that switch users (apt's _apt sandbox), SETFCAP for packages that
// carry file capabilities.
json builder_security_context() {
  return {
      {"allowPrivilegeEscalation", false},
      {"privileged", false},
      {"runAsUser", 0},
      {"runAsNonRoot", false},
      {"capabilities",
       {{"drop", json::array({"ALL"})},
        {"add", json::array({"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETFCAP", "SETGID", "SETUID"})}}},
      {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json kaniko_args(const json& tpl, const std::string& hash, const OperatorConfig& config) {
  json args = json::array({"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace",
                           "--destination=" + built_image(config, name_of(tpl), hash)});
  if (config.insecure_registry) {
    args.push_back("--insecure");
    args.push_back("--skip-tls-verify");
  }
  return args;
}

std::string decoded(const json& data, const char* key) {
  if (!data.is_object() || !data.contains(key) || !data[key].is_string()) return "";
  try {
    return util::base64_decode(data[key].get<std::string>());
  } catch (const std::exception&) {
    return "";  // unreadable: the reconcile makes a new one
  }
}

bool condition_true(const json& obj, const char* type) {
  const json status = obj.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  return false;
}

}  // namespace

std::string destination_repository(const OperatorConfig& config, const std::string& template_name) {
  return config.registry + "/" + template_name;
}

std::string built_image(const OperatorConfig& config, const std::string& template_name,
                        const std::string& hash) {
  return destination_repository(config, template_name) + ":" + hash;
}

std::string build_object_name(const std::string& template_name, const std::string& hash) {
  return "tpl-" + template_name + "-" + hash.substr(0, 8);
}

std::string share_secret_name(const std::string& template_name) {
  return "tpl-" + template_name + "-share";
}

json render_dockerfile_configmap(const json& tpl, const api::BuildSpec& build,
                                 const std::string& hash, const OperatorConfig& config) {
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", child_metadata(tpl, build_object_name(name_of(tpl), hash), config.namespace_name,
                                  kBuildKind, {{kBuildHashLabel, hash}})},
      {"data", {{"Dockerfile", api::dockerfile(build, config.default_base_image)}}}};
}

json render_build_job(const json& tpl, const std::string& hash, const OperatorConfig& config) {
  std::string name = build_object_name(name_of(tpl), hash);
  json mounts =
      json::array({{{"name", kContextVolume}, {"mountPath", "/workspace"}, {"readOnly", true}}});
  json volumes = json::array({{{"name", kContextVolume}, {"configMap", {{"name", name}}}}});
  if (!config.registry_push_secret.empty()) {
    // Kaniko reads registry credentials from /kaniko/.docker/config.json.
    mounts.push_back(
        {{"name", kDockerConfigVolume}, {"mountPath", "/kaniko/.docker"}, {"readOnly", true}});
    volumes.push_back(
        {{"name", kDockerConfigVolume},
         {"secret",
          {{"secretName", config.registry_push_secret},
           {"items", json::array({{{"key", ".dockerconfigjson"}, {"path", "config.json"}}})}}}});
  }
  json container = {{"name", "build"},
                    {"image", config.builder_image},
                    {"args", kaniko_args(tpl, hash, config)},
                    {"volumeMounts", mounts},
                    {"securityContext", builder_security_context()}};
  json pod_spec = {{"restartPolicy", "Never"},
                   // The builder never talks to the API server, nor to the namespace's Services.
                   {"automountServiceAccountToken", false},
                   {"enableServiceLinks", false},
                   {"securityContext", {{"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                   {"containers", json::array({container})},
                   {"volumes", volumes}};
  json metadata =
      child_metadata(tpl, name, config.namespace_name, kBuildKind, {{kBuildHashLabel, hash}});
  metadata["annotations"] = {{kImageAnnotation, built_image(config, name_of(tpl), hash)}};
  // No ttlSecondsAfterFinished: the controller reads a finished Job's outcome (and a failed
  // one's log) and deletes old builds itself once a newer one has succeeded.
  return {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", metadata},
      {"spec",
       {{"backoffLimit", 1},
        {"activeDeadlineSeconds", kBuildDeadlineSeconds},
        {"template", {{"metadata", {{"labels", build_labels(tpl, hash)}}}, {"spec", pod_spec}}}}}};
}

ShareValues read_share_values(const json* secret) {
  if (!secret) return {};
  const json data = secret->value("data", json::object());
  return {decoded(data, "token"), decoded(data, "accessKey")};
}

json render_share_secret(const json& tpl, const ShareValues& values, const OperatorConfig& config) {
  // data, not stringData: the server stores data, so the cached Secret can be compared with it.
  json data = {{"token", util::base64_encode(values.token)}};
  if (!values.access_key.empty()) data["accessKey"] = util::base64_encode(values.access_key);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           child_metadata(tpl, share_secret_name(name_of(tpl)), config.namespace_name, kShareKind)},
          {"type", "Opaque"},
          {"data", data}};
}

JobOutcome job_outcome(const json& job) {
  if (condition_true(job, "Complete")) return JobOutcome::Succeeded;
  if (condition_true(job, "Failed")) return JobOutcome::Failed;
  return JobOutcome::Running;
}

std::string last_lines(const std::string& log, size_t n, size_t max_chars) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : "\n") + lines[i];
  if (out.size() > max_chars) out = "..." + out.substr(out.size() - max_chars);
  return out;
}

std::string build_failure_message(const json& job, const std::string& log_tail) {
  std::string why;
  const json status = job.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "Failed" && c.value("status", "") == "True")
      why = c.value("reason", "") + ": " + c.value("message", "");
  std::string msg = "build Job " + job.at("metadata").value("name", "") + " failed";
  if (!why.empty()) msg += " (" + why + ")";
  if (log_tail.empty()) return msg + "; the builder left no log";
  return msg + "; last lines of the build log:\n" + log_tail;
}

}  // namespace rc::controllers::tpl

// The Job (and headless Service) of each run of a TrainingJob.
#include "remotecode/controllers/trainingjob_render.h"

#include "remotecode/controllers/children.h"
#include "remotecode/controllers/pod.h"
#include "remotecode/util/encoding.h"

namespace rc::controllers::trainingjob {

using nlohmann::json;

namespace {

// Clones the repository into the (empty) source volume.
//
// This is not shell injection: the script text is a constant. The repository URL and ref reach
// it only as positional parameters ($1, $2) after `sh -c SCRIPT clone`, and the shell expands a
// double-quoted "$1" into exactly one word without parsing it again, so no quote, `;`, `$(...)`
// or newline in them can become a command. `--` ends git's options before the URL, the ref is
// the value of --branch (never an option of its own), and parse_trainingjob has already refused
// URLs and refs that start with '-' or name helper transports (ext::, file::), which
// GIT_ALLOW_PROTOCOL refuses as well.
constexpr const char* kCloneScript = R"(set -eu
if [ -n "$2" ]; then
  git clone --depth 1 --branch "$2" -- "$1" /src
else
  git clone --depth 1 -- "$1" /src
fi
)";

const std::string& name_of(const json& tj) {
  return tj.at("metadata").at("name").get_ref<const std::string&>();
}

std::string namespace_of(const json& tj) {
  return tj.at("metadata").value("namespace", "");
}

json run_labels(int index) {
  return {{kRunLabel, std::to_string(index)}};
}

json pod_labels(const json& tj, int index) {
  return {
      {kKindLabel, kKindLabelValue}, {kNameLabel, name_of(tj)}, {kRunLabel, std::to_string(index)}};
}

std::string join_path(const std::string& base, const std::string& sub) {
  return sub.empty() ? base : base + "/" + sub;
}

json clone_container(const api::GitSource& git, const OperatorConfig& config) {
  return {{"name", "clone"},
          {"image", config.git_image},
          {"command", json::array({"sh", "-c", kCloneScript, "clone", git.repository.url,
                                   git.repository.ref})},
          {"env", json::array({{{"name", "GIT_TERMINAL_PROMPT"}, {"value", "0"}},
                               {{"name", "GIT_ALLOW_PROTOCOL"}, {"value", "http:https:ssh:git"}},
                               // The non-root user has no home of its own for git's config.
                               {{"name", "HOME"}, {"value", "/tmp"}}})},
          {"volumeMounts", json::array({{{"name", "src"}, {"mountPath", kSourcePath}}})},
          {"securityContext", container_security_context()}};
}

json env_var(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

json container_env(const std::string& job_name, const RenderInput& in, const api::SweepRun& run) {
  json env = json::array();
  for (const auto& e : in.spec.env) env.push_back(env_var(e.name, e.value));
  for (const auto& [name, value] : run.values) env.push_back(env_var(name, value));
  if (in.spec.workers > 1) {
    // torchrun-style rendezvous: rank 0 is reachable as <job>-0.<job> through the headless
    // Service (the pod's hostname.subdomain).
    env.push_back(env_var("MASTER_ADDR", job_name + "-0." + job_name));
    env.push_back(env_var("MASTER_PORT", std::to_string(kMasterPort)));
    env.push_back(env_var("WORLD_SIZE", std::to_string(in.spec.workers)));
    env.push_back({{"name", "RANK"},
                   {"valueFrom",
                    {{"fieldRef",
                      {{"fieldPath", std::string("metadata.annotations['") +
                                         kCompletionIndexAnnotation + "']"}}}}}});
  }
  return env;
}

// Volumes and where the trainer starts, by source; the datasets claim when it exists.
void add_source(json& pod_spec, json& container, const RenderInput& in,
                const OperatorConfig& config) {
  json volumes = json::array(), mounts = json::array();
  const auto& spec = in.spec;
  if (spec.git) {
    volumes.push_back({{"name", "src"}, {"emptyDir", json::object()}});
    mounts.push_back({{"name", "src"}, {"mountPath", kSourcePath}});
    pod_spec["initContainers"] = json::array({clone_container(*spec.git, config)});
    container["workingDir"] = join_path(kSourcePath, spec.git->path);
  } else if (spec.workspace) {
    volumes.push_back({{"name", "home"},
                       {"persistentVolumeClaim", {{"claimName", spec.workspace->name + "-home"}}}});
    mounts.push_back({{"name", "home"}, {"mountPath", kHomePath}});
    container["workingDir"] = join_path(kHomePath, spec.workspace->path);
  } else if (spec.config_map) {
    volumes.push_back({{"name", "src"}, {"configMap", {{"name", spec.config_map->name}}}});
    mounts.push_back({{"name", "src"}, {"mountPath", kSourcePath}, {"readOnly", true}});
    container["workingDir"] = kSourcePath;
  }
  if (in.datasets_present) {
    volumes.push_back(
        {{"name", "data"},
         {"persistentVolumeClaim", {{"claimName", config.datasets_claim}, {"readOnly", true}}}});
    mounts.push_back({{"name", "data"}, {"mountPath", kDatasetsPath}, {"readOnly", true}});
  }
  if (!volumes.empty()) pod_spec["volumes"] = volumes;
  if (!mounts.empty()) container["volumeMounts"] = mounts;
}

json trainer_container(const std::string& job_name, const RenderInput& in, const api::SweepRun& run,
                       const OperatorConfig& config) {
  json c = {{"name", kContainerName}, {"image", in.image}};
  if (!in.spec.command.empty()) c["command"] = in.spec.command;
  if (!in.spec.args.empty()) c["args"] = api::substitute_args(in.spec.args, run);
  json env = container_env(job_name, in, run);
  if (!env.empty()) c["env"] = env;
  json resources = container_resources(in.resources, config);
  if (!resources.empty()) c["resources"] = resources;
  c["securityContext"] = container_security_context();
  return c;
}

}  // namespace

std::string run_name(const std::string& trainingjob_name, int index) {
  return trainingjob_name + "-" + std::to_string(index);
}

json render_run_job(const json& tj, const RenderInput& in, const api::SweepRun& run,
                    const OperatorConfig& config) {
  std::string name = run_name(name_of(tj), run.index);
  json container = trainer_container(name, in, run, config);
  json pod_spec = {{"restartPolicy", "Never"},
                   // User code has no business with the Kubernetes API, nor with the
                   // addresses of the namespace's Services (thousands of variables otherwise).
                   {"automountServiceAccountToken", false},
                   {"enableServiceLinks", false},
                   {"securityContext", pod_security_context()}};
  add_source(pod_spec, container, in, config);
  pod_spec["containers"] = json::array({container});
  add_gpu_scheduling(pod_spec, in.resources);

  json spec = {{"suspend", true}, {"backoffLimit", in.spec.retries}};
  if (in.spec.deadline_seconds) spec["activeDeadlineSeconds"] = *in.spec.deadline_seconds;
  if (in.spec.workers > 1) {
    spec["completionMode"] = "Indexed";
    spec["completions"] = in.spec.workers;
    spec["parallelism"] = in.spec.workers;
    pod_spec["subdomain"] = name;  // the headless Service of the same name
  }
  // No ttlSecondsAfterFinished: finished runs stay for their logs and status; the TrainingJob's
  // own TTL deletes it and its Jobs with it.
  spec["template"] = {{"metadata", {{"labels", pod_labels(tj, run.index)}}}, {"spec", pod_spec}};

  json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               child_metadata(tj, name, namespace_of(tj), kKindLabelValue, run_labels(run.index))},
              {"spec", spec}};
  job["metadata"]["annotations"] = {
      {kSpecHashAnnotation, util::sha256_hex(job["spec"].dump()).substr(0, 16)}};
  return job;
}

json job_for_apply(const json& rendered_job) {
  json out = rendered_job;
  out["spec"].erase("suspend");
  return out;
}

std::optional<json> render_run_service(const json& tj, const RenderInput& in,
                                       const api::SweepRun& run) {
  if (in.spec.workers <= 1) return std::nullopt;
  std::string name = run_name(name_of(tj), run.index);
  json spec = {{"clusterIP", "None"},
               // Workers must find each other before any of them is ready.
               {"publishNotReadyAddresses", true},
               {"selector", {{"job-name", name}}},
               {"ports", json::array({{{"name", "rendezvous"},
                                       {"port", kMasterPort},
                                       {"protocol", "TCP"},
                                       {"targetPort", kMasterPort}}})}};
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata",
               child_metadata(tj, name, namespace_of(tj), kKindLabelValue, run_labels(run.index))},
              {"spec", spec}};
}

}  // namespace rc::controllers::trainingjob

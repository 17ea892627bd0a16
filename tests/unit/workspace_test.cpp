// The Workspace: spec parsing, checking against its Template, the rendered children (golden
// files, strict validation against the Kubernetes 1.32 OpenAPI schemas), and status as a pure
// function of what the reconcile observed (phase, messages, GPU-seconds, idle timeout, Events).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "golden.h"
#include "remotecode/api/workspace.h"
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/workspace_render.h"
#include "remotecode/controllers/workspace_status.h"
#include "remotecode/schema/validator.h"

using nlohmann::json;
using namespace rc;
using namespace rc::controllers::workspace;
using rc::controllers::OperatorConfig;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

using rc::testing::expect_strictly_valid;
using rc::testing::kOpenApiDir;
void expect_golden(const std::string& name, const json& actual) {
  rc::testing::expect_golden("workspace", name, actual);
}

json workspace(json spec, const std::string& name = "alice-dev") {
  return {{"apiVersion", "remotecode.dev/v1alpha1"},
          {"kind", "Workspace"},
          {"metadata",
           {{"name", name},
            {"namespace", "team-a"},
            {"uid", "6f1c2a4e-0000-4000-8000-000000000001"},
            {"generation", 3}}},
          {"spec", spec}};
}

json a_template(json spec, const std::string& name = "pytorch") {
  return {{"apiVersion", "remotecode.dev/v1alpha1"},
          {"kind", "Template"},
          {"metadata", {{"name", name}, {"uid", "6f1c2a4e-0000-4000-8000-0000000000aa"}}},
          {"spec", spec}};
}

json gpu_template(const std::string& ide = "vscode") {
  json defaults = {{"gpus", 1}, {"cpu", "2"}, {"memory", "8Gi"}};
  json maximum = {{"gpus", 8}, {"cpu", "32"}, {"memory", "128Gi"}, {"homeSize", "200Gi"}};
  return a_template({{"image", "ghcr.io/example/pytorch:2.4"},
                     {"ide", ide},
                     {"resources", {{"default", defaults}, {"maximum", maximum}}}});
}

RenderInput resolved(const json& ws, const json& tpl, bool datasets = false) {
  Resolution r = resolve_workspace(ws, &tpl, datasets);
  if (r.blocker) ADD_FAILURE() << r.blocker->reason << ": " << r.blocker->message;
  return r.input.value_or(RenderInput{});
}

json as_json(const Children& c) {
  return {{"homeClaim", c.home_claim},
          {"deployment", c.deployment},
          {"service", c.service},
          {"ingress", c.ingress},
          {"networkPolicy", c.network_policy}};
}

void expect_valid_children(const std::string& name, const Children& c) {
  for (const json& child : {c.home_claim, c.deployment, c.service, c.ingress, c.network_policy}) {
    auto result = schema::validate_object_strict(child, kOpenApiDir);
    EXPECT_TRUE(result.ok()) << name << " " << child.value("kind", "") << ":\n"
                             << result.to_string();
  }
}

const json& pod_spec_of(const Children& c) {
  return c.deployment["spec"]["template"]["spec"];
}

std::vector<std::string> fields(const api::SpecError& e) {
  std::vector<std::string> out;
  for (const auto& f : e.errors()) out.push_back(f.field);
  return out;
}

std::vector<std::string> parse_error_fields(const json& ws) {
  try {
    api::parse_workspace(ws);
  } catch (const api::SpecError& e) {
    return fields(e);
  }
  return {};
}

util::SystemTime at(const std::string& rfc3339) {
  return util::parse_rfc3339(rfc3339).value();
}

}  // namespace

// --- parsing ---------------------------------------------------------------------------------

TEST(ParseWorkspace, ReadsTheSpecAndItsDefaults) {
  auto spec = api::parse_workspace(workspace({{"template", "pytorch"}}));
  EXPECT_EQ(spec.template_name, "pytorch");
  EXPECT_TRUE(spec.running);
  EXPECT_EQ(spec.idle_timeout_minutes, 0);
  EXPECT_EQ(spec.home_retention, api::HomeRetention::Delete);
  EXPECT_EQ(spec.resources, api::Resources{});

  auto full = api::parse_workspace(workspace({{"template", "pytorch"},
                                              {"owner", "alice"},
                                              {"running", false},
                                              {"idleTimeoutMinutes", 30},
                                              {"homeRetention", "Retain"},
                                              {"resources", {{"gpus", 2}, {"homeSize", "50Gi"}}}}));
  EXPECT_EQ(full.owner, "alice");
  EXPECT_FALSE(full.running);
  EXPECT_EQ(full.idle_timeout_minutes, 30);
  EXPECT_EQ(full.home_retention, api::HomeRetention::Retain);
  EXPECT_EQ(full.resources.gpus, 2);
  EXPECT_EQ(full.resources.home_size, "50Gi");
}

TEST(ParseWorkspace, NamesMustLeaveRoomForChildSuffixes) {
  json ok = {{"template", "pytorch"}};
  EXPECT_TRUE(parse_error_fields(workspace(ok, std::string(50, 'a'))).empty());
  EXPECT_EQ(parse_error_fields(workspace(ok, std::string(51, 'a'))),
            std::vector<std::string>{"metadata.name"});
  EXPECT_EQ(parse_error_fields(workspace(ok, "Alice")), std::vector<std::string>{"metadata.name"});
  EXPECT_EQ(parse_error_fields(workspace(ok, "a.b")), std::vector<std::string>{"metadata.name"});
}

TEST(ParseWorkspace, NamesEveryBadField) {
  EXPECT_EQ(parse_error_fields(workspace({{"running", "yes"},
                                          {"homeRetention", "Keep"},
                                          {"idleTimeoutMinutes", -5},
                                          {"resources", {{"gpus", 17}, {"cpu", "lots"}}}})),
            (std::vector<std::string>{"spec.template", "spec.running", "spec.resources.gpus",
                                      "spec.resources.cpu", "spec.idleTimeoutMinutes",
                                      "spec.homeRetention"}));
  EXPECT_EQ(parse_error_fields(workspace({{"template", "Bad_Name"}})),
            std::vector<std::string>{"spec.template"});
  try {
    api::parse_workspace(workspace({{"template", "x"}, {"homeRetention", "Keep"}}));
    FAIL() << "expected a SpecError";
  } catch (const api::SpecError& e) {
    EXPECT_EQ(e.reason(), "InvalidSpec");
    EXPECT_STREQ(e.what(), "spec.homeRetention: \"Keep\" is not Delete or Retain");
  }
}

// --- checking against the template -----------------------------------------------------------

TEST(ResolveWorkspace, EffectiveResourcesComeFromTheTemplateDefaults) {
  RenderInput in =
      resolved(workspace({{"template", "pytorch"}, {"resources", {{"gpus", 4}}}}), gpu_template());
  EXPECT_EQ(in.resources.gpus, 4);
  EXPECT_EQ(in.resources.cpu, "2");
  EXPECT_EQ(in.resources.memory, "8Gi");
  EXPECT_EQ(in.image, "ghcr.io/example/pytorch:2.4");
  EXPECT_EQ(in.ide, api::Ide::VSCode);
}

TEST(ResolveWorkspace, AMissingTemplateLeavesItPending) {
  Resolution r = resolve_workspace(workspace({{"template", "pytorch"}}), nullptr, false);
  ASSERT_TRUE(r.blocker);
  EXPECT_FALSE(r.input);
  EXPECT_EQ(r.blocker->phase, "Pending");
  EXPECT_EQ(r.blocker->reason, "TemplateNotFound");
  EXPECT_NE(r.blocker->message.find("Template \"pytorch\" does not exist. Create it"),
            std::string::npos);
}

TEST(ResolveWorkspace, ResourcesAboveTheTemplateMaximumFail) {
  json tpl = gpu_template();
  Resolution r = resolve_workspace(
      workspace({{"template", "pytorch"}, {"resources", {{"gpus", 9}, {"homeSize", "1Ti"}}}}), &tpl,
      false);
  ASSERT_TRUE(r.blocker);
  EXPECT_EQ(r.blocker->phase, "Failed");
  EXPECT_EQ(r.blocker->reason, "ExceedsTemplateMaximum");
  EXPECT_EQ(r.blocker->validity, Blocker::Validity::Invalid);
  EXPECT_EQ(r.blocker->message,
            "spec.resources.gpus: 9 is more than the template's maximum of 8; "
            "spec.resources.homeSize: 1Ti is more than the template's maximum of 200Gi");
}

TEST(ResolveWorkspace, BadSpecsAndUnusableTemplatesFail) {
  json tpl = gpu_template();
  Resolution bad =
      resolve_workspace(workspace({{"template", "pytorch"}, {"running", 1}}), &tpl, false);
  ASSERT_TRUE(bad.blocker);
  EXPECT_EQ(bad.blocker->phase, "Failed");
  EXPECT_EQ(bad.blocker->reason, "InvalidSpec");
  EXPECT_EQ(bad.blocker->message, "spec.running: must be true or false");

  json batch = gpu_template("none");
  Resolution batch_only = resolve_workspace(workspace({{"template", "pytorch"}}), &batch, false);
  ASSERT_TRUE(batch_only.blocker);
  EXPECT_EQ(batch_only.blocker->reason, "TemplateIsBatchOnly");
  EXPECT_EQ(batch_only.blocker->validity, Blocker::Validity::Invalid);
  EXPECT_NE(batch_only.blocker->message.find("batch"), std::string::npos);

  json broken = a_template({{"ide", "vscode"}});  // neither image nor build
  Resolution invalid = resolve_workspace(workspace({{"template", "pytorch"}}), &broken, false);
  ASSERT_TRUE(invalid.blocker);
  EXPECT_EQ(invalid.blocker->phase, "Failed");
  EXPECT_EQ(invalid.blocker->reason, "TemplateInvalid");
}

TEST(ResolveWorkspace, AnUnbuiltTemplateIsBuildingAndAFailedBuildFails) {
  json tpl = a_template({{"build", {{"steps", {"RUN pip install torch"}}}}});
  Resolution building = resolve_workspace(workspace({{"template", "pytorch"}}), &tpl, false);
  ASSERT_TRUE(building.blocker);
  EXPECT_EQ(building.blocker->phase, "Building");
  EXPECT_EQ(building.blocker->reason, "TemplateBuilding");

  tpl["status"] = {{"phase", "Failed"},
                   {"conditions",
                    {{{"type", "Built"},
                      {"status", "False"},
                      {"reason", "BuildFailed"},
                      {"message", "error: pip: not found"}}}}};
  Resolution failed = resolve_workspace(workspace({{"template", "pytorch"}}), &tpl, false);
  ASSERT_TRUE(failed.blocker);
  EXPECT_EQ(failed.blocker->phase, "Failed");
  EXPECT_EQ(failed.blocker->reason, "TemplateBuildFailed");
  EXPECT_NE(failed.blocker->message.find("error: pip: not found"), std::string::npos);

  tpl["status"] = {{"image", "registry/pytorch:0123456789abcdef"},
                   {"buildHash", "0123456789abcdef"}};
  Resolution built = resolve_workspace(workspace({{"template", "pytorch"}}), &tpl, false);
  ASSERT_TRUE(built.input);
  EXPECT_EQ(built.input->image, "registry/pytorch:0123456789abcdef");
}

// --- rendering: golden files and strict validation -------------------------------------------

struct GoldenCase {
  std::string name;
  json workspace;
  json tpl;
  OperatorConfig config;
  bool datasets = false;
};

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> cases;
  OperatorConfig plain;
  cases.push_back({"vscode-gpu",
                   workspace({{"template", "pytorch"},
                              {"resources", {{"gpus", 2}, {"cpu", "8"}, {"memory", "32Gi"}}}}),
                   gpu_template(), plain});
  cases.push_back(
      {"jupyter", workspace({{"template", "notebook"}}, "bob-notebook"),
       a_template({{"image", "quay.io/jupyter/scipy-notebook:2024-07-29"}, {"ide", "jupyter"}},
                  "notebook"),
       plain});
  cases.push_back(
      {"stopped", workspace({{"template", "pytorch"}, {"running", false}}), gpu_template(), plain});
  OperatorConfig storage = plain;
  storage.storage_class = "fast-ssd";
  cases.push_back({"retain",
                   workspace({{"template", "pytorch"},
                              {"homeRetention", "Retain"},
                              {"resources", {{"homeSize", "50Gi"}}}}),
                   gpu_template(), storage});
  json repo_tpl = gpu_template();
  repo_tpl["spec"]["repository"] = {{"url", "https://github.com/example/llm-finetune.git"},
                                    {"ref", "release/2024.10"}};
  cases.push_back({"repository", workspace({{"template", "pytorch"}}), repo_tpl, plain});
  OperatorConfig hami = plain;
  hami.gpu_sharing = controllers::GpuSharing::Hami;
  cases.push_back({"hami",
                   workspace({{"template", "pytorch"}, {"resources", {{"gpuMemoryMiB", 8192}}}}),
                   gpu_template(), hami});
  OperatorConfig mig = plain;
  mig.gpu_sharing = controllers::GpuSharing::Mig;
  cases.push_back({"mig",
                   workspace({{"template", "pytorch"}, {"resources", {{"gpuMemoryMiB", 20000}}}}),
                   gpu_template(), mig});
  cases.push_back(
      {"product",
       workspace({{"template", "pytorch"},
                  {"resources", {{"gpus", 1}, {"gpuProduct", "NVIDIA-H100-80GB-HBM3"}}}}),
       gpu_template(), plain});
  cases.push_back({"datasets", workspace({{"template", "pytorch"}}), gpu_template(), plain, true});
  OperatorConfig tls = plain;
  tls.ingress_host = "ide.example.org";
  tls.ingress_tls_secret = "ide-example-org-tls";
  cases.push_back({"host-tls", workspace({{"template", "pytorch"}}), gpu_template(), tls});
  return cases;
}

TEST(RenderWorkspace, ChildrenMatchTheGoldenFilesAndTheKubernetesSchemas) {
  for (const auto& c : golden_cases()) {
    SCOPED_TRACE(c.name);
    Children children =
        render_children(c.workspace, resolved(c.workspace, c.tpl, c.datasets), c.config);
    expect_golden(c.name, as_json(children));
    expect_valid_children(c.name, children);
  }
}

TEST(RenderWorkspace, EveryChildIsOwnedAndLabelled) {
  json ws = workspace({{"template", "pytorch"}});
  Children c = render_children(ws, resolved(ws, gpu_template()), OperatorConfig{});
  for (const json& child : {c.home_claim, c.deployment, c.service, c.ingress, c.network_policy}) {
    SCOPED_TRACE(child.value("kind", ""));
    const json& md = child["metadata"];
    EXPECT_EQ(md["namespace"], "team-a");
    EXPECT_EQ(md["labels"]["app.kubernetes.io/managed-by"], "remote-code");
    EXPECT_EQ(md["labels"]["remotecode.dev/kind"], "workspace");
    EXPECT_EQ(md["labels"]["remotecode.dev/name"], "alice-dev");
    ASSERT_EQ(md["ownerReferences"].size(), 1u);
    EXPECT_EQ(md["ownerReferences"][0]["uid"], "6f1c2a4e-0000-4000-8000-000000000001");
    EXPECT_EQ(md["ownerReferences"][0]["controller"], true);
  }
  EXPECT_EQ(c.home_claim["metadata"]["name"], "alice-dev-home");
}

TEST(RenderWorkspace, ARetainedHomeHasNoOwnerSoItOutlivesTheWorkspace) {
  json ws = workspace({{"template", "pytorch"}, {"homeRetention", "Retain"}});
  Children c = render_children(ws, resolved(ws, gpu_template()), OperatorConfig{});
  EXPECT_FALSE(c.home_claim["metadata"].contains("ownerReferences"));
  EXPECT_TRUE(c.deployment["metadata"].contains("ownerReferences"));
}

TEST(RenderWorkspace, StoppingScalesToZeroAndKeepsEverythingElse) {
  json running = workspace({{"template", "pytorch"}});
  json stopped = workspace({{"template", "pytorch"}, {"running", false}});
  Children a = render_children(running, resolved(running, gpu_template()), OperatorConfig{});
  Children b = render_children(stopped, resolved(stopped, gpu_template()), OperatorConfig{});
  EXPECT_EQ(a.deployment["spec"]["replicas"], 1);
  EXPECT_EQ(b.deployment["spec"]["replicas"], 0);
  b.deployment["spec"]["replicas"] = 1;
  EXPECT_EQ(as_json(a), as_json(b));
}

TEST(RenderWorkspace, RepositoryValuesAreArgumentsNeverScriptText) {
  json ws = workspace({{"template", "pytorch"}});
  // Rendering never relies on the template controller's URL check: even a value made to break
  // out of a shell stays one argument.
  RenderInput in = resolved(ws, gpu_template());
  in.repository = api::Repository{"https://git.example.org/a'; touch /tmp/x; '$(id)", "v1"};
  Children c = render_children(ws, in, OperatorConfig{});
  const json& clone = pod_spec_of(c)["initContainers"][0];
  EXPECT_EQ(clone["name"], "clone");
  EXPECT_EQ(clone["image"], OperatorConfig{}.git_image);
  const json& cmd = clone["command"];
  ASSERT_EQ(cmd.size(), 6u);
  EXPECT_EQ(cmd[0], "sh");
  EXPECT_EQ(cmd[1], "-c");
  EXPECT_EQ(cmd[3], "clone");  // $0
  EXPECT_EQ(cmd[4], "https://git.example.org/a'; touch /tmp/x; '$(id)");
  EXPECT_EQ(cmd[5], "v1");
  std::string script = cmd[2];
  EXPECT_EQ(script.find("example.org"), std::string::npos);
  EXPECT_NE(script.find("-- \"$1\""), std::string::npos);
  EXPECT_NE(script.find("--branch \"$2\""), std::string::npos);

  // The script is the same text whatever the repository.
  json other = gpu_template();
  other["spec"]["repository"] = {{"url", "git@github.com:org/repo.git"}};
  Children d = render_children(ws, resolved(ws, other), OperatorConfig{});
  EXPECT_EQ(pod_spec_of(d)["initContainers"][0]["command"][2], script);
  EXPECT_EQ(pod_spec_of(d)["initContainers"][0]["command"][5], "");

  // No repository, no init container.
  Children none = render_children(ws, resolved(ws, gpu_template()), OperatorConfig{});
  EXPECT_FALSE(pod_spec_of(none).contains("initContainers"));
}

TEST(RenderWorkspace, DatasetsAreMountedReadOnlyOnlyWhenTheClaimExists) {
  json ws = workspace({{"template", "pytorch"}});
  Children with = render_children(ws, resolved(ws, gpu_template(), true), OperatorConfig{});
  const json& volumes = pod_spec_of(with)["volumes"];
  ASSERT_EQ(volumes.size(), 2u);
  EXPECT_EQ(volumes[1]["persistentVolumeClaim"]["claimName"], "remote-code-datasets");
  EXPECT_EQ(volumes[1]["persistentVolumeClaim"]["readOnly"], true);
  const json& mounts = pod_spec_of(with)["containers"][0]["volumeMounts"];
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[1]["mountPath"], "/data");
  EXPECT_EQ(mounts[1]["readOnly"], true);

  Children without = render_children(ws, resolved(ws, gpu_template(), false), OperatorConfig{});
  EXPECT_EQ(pod_spec_of(without)["volumes"].size(), 1u);
  EXPECT_EQ(pod_spec_of(without)["containers"][0]["volumeMounts"].size(), 1u);
}

TEST(RenderWorkspace, PodsAreRestrictedAndAskForTheirGpus) {
  json ws = workspace({{"template", "pytorch"}, {"resources", {{"gpus", 2}}}});
  Children c = render_children(ws, resolved(ws, gpu_template()), OperatorConfig{});
  const json& pod = pod_spec_of(c);
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["enableServiceLinks"], false);
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["fsGroup"], 1000);
  EXPECT_EQ(pod["tolerations"][0]["key"], "nvidia.com/gpu");
  const json& ide = pod["containers"][0];
  EXPECT_EQ(ide["resources"]["limits"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(ide["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(ide["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_EQ(c.deployment["spec"]["strategy"]["type"], "Recreate");
}

TEST(RenderWorkspace, UrlForms) {
  OperatorConfig config;
  EXPECT_EQ(workspace_url("team-a", "alice-dev", config), "/w/team-a/alice-dev/");
  config.ingress_host = "ide.example.org";
  EXPECT_EQ(workspace_url("team-a", "alice-dev", config),
            "http://ide.example.org/w/team-a/alice-dev/");
  config.ingress_tls_secret = "tls";
  EXPECT_EQ(workspace_url("team-a", "alice-dev", config),
            "https://ide.example.org/w/team-a/alice-dev/");
}

// --- status ----------------------------------------------------------------------------------

namespace {

json pod(const std::string& phase, json conditions, json container_statuses = json::array()) {
  return {
      {"metadata", {{"name", "alice-dev-x"}, {"namespace", "team-a"}}},
      {"status",
       {{"phase", phase}, {"conditions", conditions}, {"containerStatuses", container_statuses}}}};
}

json unschedulable_pod(const std::string& message) {
  return pod("Pending", {{{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "Unschedulable"},
                          {"message", message}}});
}

json ready_pod() {
  return pod("Running", {{{"type", "PodScheduled"}, {"status", "True"}},
                         {{"type", "Ready"}, {"status", "True"}}});
}

json waiting_pod(const std::string& reason, const std::string& message) {
  return pod(
      "Pending", {{{"type", "PodScheduled"}, {"status", "True"}}},
      {{{"name", "ide"}, {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}}}});
}

StatusInput running_input(std::vector<json> pods, const std::string& now = "2026-11-23T10:00:00Z") {
  StatusInput in;
  in.generation = 3;
  in.now = at(now);
  in.namespace_name = "team-a";
  in.name = "alice-dev";
  in.gpus = 2;
  in.url = "/w/team-a/alice-dev/";
  in.image = "ghcr.io/example/pytorch:2.4";
  in.pod = observe_pods(pods);
  return in;
}

const json& ready_condition(const json& status) {
  static const json none;
  const json* c = controllers::find_condition(status, "Ready");
  return c ? *c : none;
}

}  // namespace

TEST(WorkspaceStatus, AnUnschedulablePodCarriesTheSchedulersMessage) {
  std::string why =
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 "
      "Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims "
      "found for incoming pod.";
  json status = compute_status(running_input({unschedulable_pod(why)}));
  EXPECT_EQ(status["phase"], "Starting");
  EXPECT_EQ(ready_condition(status)["status"], "False");
  EXPECT_EQ(ready_condition(status)["reason"], "Unschedulable");
  EXPECT_NE(ready_condition(status)["message"].get<std::string>().find(why), std::string::npos);
  EXPECT_EQ(status["gpus"], 2);
  EXPECT_FALSE(status.contains("runningSince"));
}

TEST(WorkspaceStatus, StuckContainersSayWhatToDo) {
  json pull =
      compute_status(running_input({waiting_pod("ImagePullBackOff", "Back-off pulling image")}));
  EXPECT_EQ(ready_condition(pull)["reason"], "ImagePullBackOff");
  EXPECT_NE(ready_condition(pull)["message"].get<std::string>().find(
                "ghcr.io/example/pytorch:2.4 cannot be pulled"),
            std::string::npos);

  json crash = compute_status(running_input({waiting_pod("CrashLoopBackOff", "back-off 40s")}));
  EXPECT_EQ(crash["phase"], "Starting");
  EXPECT_EQ(ready_condition(crash)["reason"], "CrashLoopBackOff");
  EXPECT_NE(ready_condition(crash)["message"].get<std::string>().find(
                "kubectl logs -n team-a deploy/alice-dev -c ide --previous"),
            std::string::npos);

  json creating = compute_status(running_input({waiting_pod("ContainerCreating", "")}));
  EXPECT_EQ(ready_condition(creating)["reason"], "Starting");
}

TEST(WorkspaceStatus, ReadyIsRunningWithTheUrl) {
  json status = compute_status(running_input({ready_pod()}));
  EXPECT_EQ(status["phase"], "Running");
  EXPECT_EQ(status["url"], "/w/team-a/alice-dev/");
  EXPECT_EQ(status["image"], "ghcr.io/example/pytorch:2.4");
  EXPECT_EQ(status["observedGeneration"], 3);
  EXPECT_EQ(status["runningSince"], "2026-11-23T10:00:00Z");
  EXPECT_EQ(ready_condition(status)["status"], "True");
  EXPECT_TRUE(controllers::condition_is_true(status, "Valid"));

  // Level-triggered: the same observation a second later changes nothing.
  StatusInput again = running_input({ready_pod()}, "2026-11-23T10:00:01Z");
  again.previous = status;
  EXPECT_EQ(compute_status(again), status);
}

TEST(WorkspaceStatus, BlockersSetPhaseAndConditions) {
  StatusInput in = running_input({});
  in.blocker = Blocker{"Pending", "TemplateNotFound", "Template \"x\" does not exist.",
                       Blocker::Validity::Unknown};
  json pending = compute_status(in);
  EXPECT_EQ(pending["phase"], "Pending");
  EXPECT_EQ(ready_condition(pending)["reason"], "TemplateNotFound");
  EXPECT_EQ(controllers::find_condition(pending, "Valid")->at("status"), "Unknown");

  in.blocker = Blocker{"Failed", "ExceedsTemplateMaximum", "spec.resources.gpus: too many",
                       Blocker::Validity::Invalid};
  json failed = compute_status(in);
  EXPECT_EQ(failed["phase"], "Failed");
  const json* valid = controllers::find_condition(failed, "Valid");
  ASSERT_TRUE(valid);
  EXPECT_EQ(valid->at("status"), "False");
  EXPECT_EQ(valid->at("reason"), "ExceedsTemplateMaximum");
}

TEST(WorkspaceStatus, StoppedKeepsTheCullAsItsReason) {
  StatusInput in = running_input({});
  in.running = false;
  json stopped = compute_status(in);
  EXPECT_EQ(stopped["phase"], "Stopped");
  EXPECT_EQ(ready_condition(stopped)["reason"], "Stopped");

  in.culled_message = "Stopped after 61 minutes without a request";
  json culled = compute_status(in);
  EXPECT_EQ(ready_condition(culled)["reason"], "IdleTimeout");
  StatusInput later = in;
  later.culled_message.clear();
  later.previous = culled;
  EXPECT_EQ(ready_condition(compute_status(later))["reason"], "IdleTimeout");
  EXPECT_EQ(ready_condition(compute_status(later))["message"],
            "Stopped after 61 minutes without a request");
}

TEST(GpuSeconds, IntervalsAreChargedAtTheirGpuCount) {
  json none = json::object();
  GpuTime start = account_gpu_time(none, true, 2, at("2026-11-23T10:00:00Z"));
  ASSERT_TRUE(start.running_since);
  EXPECT_EQ(util::rfc3339(*start.running_since), "2026-11-23T10:00:00Z");
  EXPECT_EQ(start.gpu_seconds, 0);

  json status = {{"gpus", 2}, {"gpuSeconds", 100}, {"runningSince", "2026-11-23T10:00:00Z"}};
  GpuTime still = account_gpu_time(status, true, 2, at("2026-11-23T11:00:00Z"));
  EXPECT_EQ(still.gpu_seconds, 100);
  EXPECT_EQ(util::rfc3339(*still.running_since), "2026-11-23T10:00:00Z");

  GpuTime stopped = account_gpu_time(status, false, 2, at("2026-11-23T10:30:00Z"));
  EXPECT_EQ(stopped.gpu_seconds, 100 + 1800 * 2);
  EXPECT_FALSE(stopped.running_since);
  ASSERT_TRUE(stopped.closed);
  EXPECT_EQ(util::rfc3339(stopped.closed->start), "2026-11-23T10:00:00Z");
  EXPECT_EQ(util::rfc3339(stopped.closed->end), "2026-11-23T10:30:00Z");
  EXPECT_EQ(stopped.closed->gpus, 2);
  EXPECT_FALSE(still.closed);

  // Resized while running: the old interval is closed at 2 GPUs, a new one opens.
  GpuTime resized = account_gpu_time(status, true, 4, at("2026-11-23T10:00:10Z"));
  EXPECT_EQ(resized.gpu_seconds, 100 + 10 * 2);
  EXPECT_EQ(util::rfc3339(*resized.running_since), "2026-11-23T10:00:10Z");
}

TEST(GpuSeconds, ComputeStatusClosesTheIntervalWhenThePodStops) {
  StatusInput in = running_input({ready_pod()}, "2026-11-23T10:00:00Z");
  json running = compute_status(in);
  StatusInput stop = running_input({}, "2026-11-23T10:10:00Z");
  stop.running = false;
  stop.previous = running;
  json stopped = compute_status(stop);
  EXPECT_EQ(stopped["gpuSeconds"], 600 * 2);
  EXPECT_FALSE(stopped.contains("runningSince"));
  EXPECT_EQ(stopped["sessions"], json::parse(R"([{"start":"2026-11-23T10:00:00Z",
      "end":"2026-11-23T10:10:00Z","gpus":2}])"));
}

TEST(GpuSeconds, SessionHistoryKeepsTheNewest) {
  json status = {{"gpus", 1}, {"gpuSeconds", 0}, {"sessions", json::array()}};
  for (size_t i = 0; i < kMaxSessions + 5; ++i) {
    StatusInput run = running_input({ready_pod()}, "2026-11-23T10:00:00Z");
    run.now = at("2026-11-23T10:00:00Z") + std::chrono::hours(2 * i);
    run.previous = status;
    json running = compute_status(run);
    StatusInput stop = running_input({}, "2026-11-23T10:00:00Z");
    stop.now = run.now + std::chrono::hours(1);
    stop.running = false;
    stop.previous = running;
    status = compute_status(stop);
  }
  ASSERT_EQ(status["sessions"].size(), kMaxSessions);
  // The oldest five were dropped: the first kept one is the sixth, started 10 hours in.
  EXPECT_EQ(status["sessions"][0]["start"], "2026-11-23T20:00:00Z");
}

TEST(IdleTimeout, CullsOnlyRunningWorkspacesIdleForTheTimeout) {
  auto now = at("2026-11-23T12:00:00Z");
  auto started = std::optional(at("2026-11-23T10:00:00Z"));
  auto last = std::optional(at("2026-11-23T11:30:00Z"));
  EXPECT_FALSE(decide_idle(0, true, last, started, now).cull);                // 0: never
  EXPECT_FALSE(decide_idle(10, false, last, started, now).cull);              // already stopped
  EXPECT_FALSE(decide_idle(10, true, std::nullopt, std::nullopt, now).cull);  // never ran
  // (Re)starting: an old last request does not stop it before its pod runs.
  IdleDecision starting = decide_idle(10, true, last, std::nullopt, now);
  EXPECT_FALSE(starting.cull);
  EXPECT_EQ(starting.requeue_after.count(), 0);

  IdleDecision cull = decide_idle(30, true, last, started, now);
  EXPECT_TRUE(cull.cull);
  EXPECT_EQ(cull.idle, minutes(30));

  IdleDecision wait = decide_idle(60, true, last, started, now);
  EXPECT_FALSE(wait.cull);
  EXPECT_EQ(wait.requeue_after, std::chrono::milliseconds(minutes(30)));

  // Restarted after a long break: the clock starts at the restart, not the last request.
  IdleDecision restarted =
      decide_idle(30, true, at("2026-11-20T00:00:00Z"), at("2026-11-23T11:50:00Z"), now);
  EXPECT_FALSE(restarted.cull);
  EXPECT_EQ(restarted.requeue_after, std::chrono::milliseconds(minutes(20)));

  // Never used since it started.
  EXPECT_TRUE(decide_idle(60, true, std::nullopt, started, now).cull);
}

TEST(WorkspaceEvents, EachChangeOnce) {
  json starting = compute_status(running_input({unschedulable_pod("0/3 nodes are available: x")}));
  auto first = status_events(json::object(), starting);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].type, "Warning");
  EXPECT_EQ(first[0].reason, "Unschedulable");
  EXPECT_TRUE(status_events(starting, starting).empty());  // same message: no repeat

  StatusInput next = running_input({ready_pod()});
  next.previous = starting;
  json running = compute_status(next);
  auto started = status_events(starting, running);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0],
            (StatusEvent{"Normal", "Started", "The IDE is running at /w/team-a/alice-dev/"}));

  StatusInput stop = running_input({});
  stop.previous = running;
  stop.running = false;
  json stopped = compute_status(stop);
  auto stopped_events = status_events(running, stopped);
  ASSERT_EQ(stopped_events.size(), 1u);
  EXPECT_EQ(stopped_events[0].reason, "Stopped");

  StatusInput invalid = running_input({});
  invalid.blocker = Blocker{"Failed", "InvalidSpec", "spec.running: must be true or false",
                            Blocker::Validity::Invalid};
  json failed = compute_status(invalid);
  auto invalid_events = status_events(json::object(), failed);
  ASSERT_EQ(invalid_events.size(), 1u);
  EXPECT_EQ(invalid_events[0],
            (StatusEvent{"Warning", "InvalidSpec", "spec.running: must be true or false"}));
  EXPECT_TRUE(status_events(failed, failed).empty());
}

// The TrainingJob: spec parsing (with injection attempts), sweep combinations and argument
// substitution, the rendered Jobs and Services (golden files, strict validation against the
// Kubernetes 1.32 OpenAPI schemas), status as a pure function of the runs' Jobs, and the queue's
// inputs gathered from cached objects (including the ledger of admissions the cache lags behind).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "golden.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/trainingjob_queue.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/controllers/trainingjob_status.h"
#include "remotecode/schema/validator.h"

using nlohmann::json;
using namespace rc;
using namespace rc::controllers::trainingjob;
using rc::controllers::OperatorConfig;

namespace {

using rc::testing::expect_strictly_valid;
using rc::testing::kOpenApiDir;
void expect_golden(const std::string& name, const json& actual) {
  rc::testing::expect_golden("trainingjob", name, actual);
}

json trainingjob(json spec, const std::string& name = "resnet") {
  return {{"apiVersion", "remotecode.dev/v1alpha1"},
          {"kind", "TrainingJob"},
          {"metadata",
           {{"name", name},
            {"namespace", "team-a"},
            {"uid", "7a2b3c4d-0000-4000-8000-000000000001"},
            {"generation", 2},
            {"creationTimestamp", "2026-01-10T09:00:00Z"}}},
          {"spec", spec}};
}

json image_spec() {
  return {{"image", "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime"},
          {"command", {"python", "train.py"}},
          {"resources", {{"gpus", 1}, {"cpu", "4"}, {"memory", "16Gi"}}}};
}

// The field paths of the SpecError parse_trainingjob throws, or {} when it parses.
std::vector<std::string> error_fields(const json& spec, const std::string& name = "resnet") {
  try {
    api::parse_trainingjob(trainingjob(spec, name));
  } catch (const api::SpecError& e) {
    std::vector<std::string> fields;
    for (const auto& fe : e.errors()) fields.push_back(fe.field);
    return fields;
  }
  return {};
}

json with(json spec, const std::string& key, json value) {
  spec[key] = std::move(value);
  return spec;
}

// --- parsing -----------------------------------------------------------------------------------

TEST(ParseTrainingJob, MinimalSpecGetsDefaults) {
  auto spec = api::parse_trainingjob(trainingjob({{"image", "busybox"}}));
  EXPECT_EQ(spec.image, "busybox");
  EXPECT_EQ(spec.workers, 1);
  EXPECT_EQ(spec.retries, 0);
  EXPECT_EQ(spec.priority, 0);
  EXPECT_FALSE(spec.suspend);
  EXPECT_FALSE(spec.git || spec.workspace || spec.config_map);
  EXPECT_FALSE(spec.deadline_seconds);
}

TEST(ParseTrainingJob, EveryFieldIsRead) {
  json s = image_spec();
  s["source"] = {
      {"git", {{"url", "https://github.com/org/repo.git"}, {"ref", "main"}, {"path", "train"}}}};
  s["args"] = {"--lr=$(lr)"};
  s["env"] = {{{"name", "WANDB_MODE"}, {"value", "offline"}}};
  s["workers"] = 4;
  s["retries"] = 2;
  s["deadlineSeconds"] = 3600;
  s["ttlSecondsAfterFinished"] = 600;
  s["priority"] = 10;
  s["suspend"] = true;
  s["sweep"] = {{"parameters", {{{"name", "lr"}, {"values", {"0.1", "0.01"}}}}}};
  s["notify"] = {{"email", {"ada@example.com"}}};
  auto spec = api::parse_trainingjob(trainingjob(s));
  ASSERT_TRUE(spec.git);
  EXPECT_EQ(spec.git->repository.url, "https://github.com/org/repo.git");
  EXPECT_EQ(spec.git->repository.ref, "main");
  EXPECT_EQ(spec.git->path, "train");
  EXPECT_EQ(spec.env, (std::vector<api::EnvVar>{{"WANDB_MODE", "offline"}}));
  EXPECT_EQ(spec.workers, 4);
  EXPECT_EQ(spec.retries, 2);
  EXPECT_EQ(spec.deadline_seconds, 3600);
  EXPECT_EQ(spec.ttl_seconds_after_finished, 600);
  EXPECT_EQ(spec.priority, 10);
  EXPECT_TRUE(spec.suspend);
  ASSERT_EQ(spec.sweep.size(), 1u);
  EXPECT_EQ(spec.sweep[0].values, (std::vector<std::string>{"0.1", "0.01"}));
  EXPECT_EQ(spec.notify_email, (std::vector<std::string>{"ada@example.com"}));
  EXPECT_EQ(spec.resources.gpus, 1);
}

TEST(ParseTrainingJob, ExactlyOneOfTemplateAndImage) {
  EXPECT_EQ(error_fields(json::object()), (std::vector<std::string>{"spec"}));
  EXPECT_EQ(error_fields({{"image", "busybox"}, {"template", "pytorch"}}),
            (std::vector<std::string>{"spec"}));
  EXPECT_TRUE(error_fields({{"template", "pytorch"}}).empty());
  EXPECT_EQ(error_fields({{"image", "-busybox"}}), (std::vector<std::string>{"spec.image"}));
  EXPECT_EQ(error_fields({{"template", "Bad_Name"}}), (std::vector<std::string>{"spec.template"}));
}

TEST(ParseTrainingJob, NameMustLeaveRoomForRunSuffixes) {
  EXPECT_TRUE(error_fields({{"image", "busybox"}}, std::string(50, 'a')).empty());
  EXPECT_EQ(error_fields({{"image", "busybox"}}, std::string(51, 'a')),
            (std::vector<std::string>{"metadata.name"}));
  EXPECT_EQ(error_fields({{"image", "busybox"}}, "1job"),
            (std::vector<std::string>{"metadata.name"}))
      << "Service names start with a letter";
}

TEST(ParseTrainingJob, GitInjectionAttemptsAreRejected) {
  auto git = [](json g) { return with(image_spec(), "source", {{"git", g}}); };
  EXPECT_EQ(error_fields(git({{"url", "--upload-pack=x"}})),
            (std::vector<std::string>{"spec.source.git.url"}));
  EXPECT_EQ(error_fields(git({{"url", "ext::sh -c touch% /tmp/pwned"}})),
            (std::vector<std::string>{"spec.source.git.url"}));
  EXPECT_EQ(error_fields(git({{"url", "https://example.com/r.git"}, {"ref", "-b"}})),
            (std::vector<std::string>{"spec.source.git.ref"}));
  EXPECT_EQ(error_fields(git({{"url", "https://example.com/r.git"}, {"ref", "main;rm -rf /"}})),
            (std::vector<std::string>{"spec.source.git.ref"}));
  EXPECT_EQ(error_fields(git({{"url", "https://example.com/r.git"}, {"path", "../../etc"}})),
            (std::vector<std::string>{"spec.source.git.path"}));
}

// A 30,000-character value once overflowed the stack of std::regex and took the process down;
// now each is refused by its length before any pattern sees it, naming the field.
TEST(ParseTrainingJob, LongStringsAreRefusedByLength) {
  const std::string long_value(30000, 'a');
  auto git = [](json g) { return with(image_spec(), "source", {{"git", g}}); };
  EXPECT_EQ(error_fields(with(image_spec(), "env", {{{"name", long_value}, {"value", "1"}}})),
            (std::vector<std::string>{"spec.env[0].name"}));
  EXPECT_EQ(error_fields(with(image_spec(), "sweep",
                              {{"parameters", {{{"name", long_value}, {"values", {"1"}}}}}})),
            (std::vector<std::string>{"spec.sweep.parameters[0].name"}));
  EXPECT_EQ(error_fields(git({{"url", "https://example.com/r.git"}, {"ref", long_value}})),
            (std::vector<std::string>{"spec.source.git.ref"}));
  EXPECT_EQ(error_fields(git({{"url", "https://example.com/" + long_value}})),
            (std::vector<std::string>{"spec.source.git.url"}));
  EXPECT_EQ(error_fields(with(image_spec(), "image", "busybox:" + long_value)),
            (std::vector<std::string>{"spec.image"}));
  EXPECT_EQ(error_fields(with(image_spec(), "args", {long_value})),
            (std::vector<std::string>{"spec.args[0]"}));
  EXPECT_EQ(error_fields(with(image_spec(), "notify", {{"email", {long_value + "@x.org"}}})),
            (std::vector<std::string>{"spec.notify.email[0]"}));
  EXPECT_TRUE(error_fields(with(image_spec(), "env",
                                {{{"name", "NOTES"}, {"value", std::string(32768, 'x')}}}))
                  .empty())
      << "an environment value may be up to 32 KiB";
  try {
    api::parse_trainingjob(
        trainingjob(git({{"url", "https://example.com/r.git"}, {"ref", long_value}})));
    ADD_FAILURE() << "no SpecError";
  } catch (const api::SpecError& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u) << "the message quotes a long value cut short";
  }
}

TEST(ParseTrainingJob, TheWholeSpecIsBounded) {
  json env = json::array();
  for (int i = 0; i < 3; ++i)
    env.push_back({{"name", "V" + std::to_string(i)}, {"value", std::string(30000, 'x')}});
  EXPECT_EQ(error_fields(with(image_spec(), "env", env)), (std::vector<std::string>{"spec"}))
      << "three values each within their own bound, 90 KB together";
  env.erase(env.begin());
  EXPECT_TRUE(error_fields(with(image_spec(), "env", env)).empty());
}

TEST(ParseTrainingJob, AHugeFloatIsNotAnInteger) {
  // Found by fuzz_crd_specs: converting -5.1e22 to int64 was undefined behaviour.
  EXPECT_EQ(error_fields(with(image_spec(), "workers", -5.11111e22)),
            (std::vector<std::string>{"spec.workers"}));
  EXPECT_TRUE(error_fields(with(image_spec(), "workers", 2.0)).empty());
}

TEST(ParseTrainingJob, PathsStayInsideTheSource) {
  auto ws = [](const std::string& path) {
    return with(image_spec(), "source", {{"workspace", {{"name", "alice-dev"}, {"path", path}}}});
  };
  EXPECT_TRUE(error_fields(ws("projects/resnet")).empty());
  EXPECT_TRUE(error_fields(ws("a..b/c")).empty()) << "'..' inside a name is not a parent step";
  for (std::string bad : {"../../etc", "/etc", "a/../../b", "..", "a/..", "x\ny"})
    EXPECT_EQ(error_fields(ws(bad)), (std::vector<std::string>{"spec.source.workspace.path"}))
        << bad;
}

TEST(ParseTrainingJob, SourcesAreExclusiveAndNamed) {
  json both = {{"git", {{"url", "https://example.com/r.git"}}}, {"configMap", {{"name", "code"}}}};
  EXPECT_EQ(error_fields(with(image_spec(), "source", both)),
            (std::vector<std::string>{"spec.source"}));
  EXPECT_EQ(error_fields(with(image_spec(), "source", {{"configMap", {{"name", "Bad Name"}}}})),
            (std::vector<std::string>{"spec.source.configMap.name"}));
  EXPECT_EQ(error_fields(with(image_spec(), "source", {{"workspace", {{"name", "a.b"}}}})),
            (std::vector<std::string>{"spec.source.workspace.name"}));
}

TEST(ParseTrainingJob, EnvNamesAreValidUniqueAndNotReserved) {
  auto env = [](json list) { return with(image_spec(), "env", list); };
  EXPECT_EQ(error_fields(env({{{"name", "A=B"}, {"value", "x"}}})),
            (std::vector<std::string>{"spec.env[0].name"}));
  EXPECT_EQ(error_fields(env({{{"name", "RANK"}, {"value", "0"}}})),
            (std::vector<std::string>{"spec.env[0].name"}));
  EXPECT_EQ(error_fields(env({{{"name", "X"}, {"value", "1"}}, {{"name", "X"}, {"value", "2"}}})),
            (std::vector<std::string>{"spec.env[1].name"}));
  // A sweep parameter is an env var too: it may not shadow one.
  json s = env({{{"name", "LR"}, {"value", "1"}}});
  s["sweep"] = {{"parameters", {{{"name", "LR"}, {"values", {"0.1"}}}}}};
  EXPECT_EQ(error_fields(s), (std::vector<std::string>{"spec.sweep.parameters[0].name"}));
  s["sweep"] = {{"parameters", {{{"name", "MASTER_PORT"}, {"values", {"1"}}}}}};
  EXPECT_EQ(error_fields(s), (std::vector<std::string>{"spec.sweep.parameters[0].name"}));
}

TEST(ParseTrainingJob, RangesAreChecked) {
  EXPECT_EQ(error_fields(with(image_spec(), "workers", 0)),
            (std::vector<std::string>{"spec.workers"}));
  EXPECT_EQ(error_fields(with(image_spec(), "workers", 65)),
            (std::vector<std::string>{"spec.workers"}));
  EXPECT_EQ(error_fields(with(image_spec(), "retries", 21)),
            (std::vector<std::string>{"spec.retries"}));
  EXPECT_EQ(error_fields(with(image_spec(), "deadlineSeconds", 0)),
            (std::vector<std::string>{"spec.deadlineSeconds"}));
  EXPECT_EQ(error_fields(with(image_spec(), "ttlSecondsAfterFinished", -1)),
            (std::vector<std::string>{"spec.ttlSecondsAfterFinished"}));
  json r = image_spec();
  r["resources"]["gpus"] = 17;
  EXPECT_EQ(error_fields(r), (std::vector<std::string>{"spec.resources.gpus"}));
}

TEST(ParseTrainingJob, SweepsAreLimitedTo100Combinations) {
  auto values = [](int n) {
    json v = json::array();
    for (int i = 0; i < n; ++i) v.push_back(std::to_string(i));
    return v;
  };
  auto sweep = [&](json params) { return with(image_spec(), "sweep", {{"parameters", params}}); };
  EXPECT_TRUE(error_fields(sweep({{{"name", "A"}, {"values", values(10)}},
                                  {{"name", "B"}, {"values", values(10)}}}))
                  .empty());
  EXPECT_EQ(error_fields(sweep({{{"name", "A"}, {"values", values(101)}}})),
            (std::vector<std::string>{"spec.sweep"}));
  EXPECT_EQ(error_fields(sweep({{{"name", "A"}, {"values", values(11)}},
                                {{"name", "B"}, {"values", values(10)}}})),
            (std::vector<std::string>{"spec.sweep"}));
  // Many large parameters must not overflow the count into something small.
  json many = json::array();
  for (int i = 0; i < 20; ++i)
    many.push_back({{"name", "P" + std::to_string(i)}, {"values", values(100)}});
  EXPECT_EQ(error_fields(sweep(many)), (std::vector<std::string>{"spec.sweep"}));
  EXPECT_EQ(error_fields(sweep({{{"name", "A"}, {"values", json::array()}}})),
            (std::vector<std::string>{"spec.sweep.parameters[0].values"}));
  EXPECT_EQ(error_fields(sweep({{{"name", "A"}, {"values", {"1", "1"}}}})),
            (std::vector<std::string>{"spec.sweep.parameters[0].values[1]"}));
}

TEST(ParseTrainingJob, NotificationAddressesCannotCarryHeaders) {
  auto notify = [](json emails) { return with(image_spec(), "notify", {{"email", emails}}); };
  EXPECT_TRUE(error_fields(notify({"ada@example.com", "first.last+ml@lab.example.org"})).empty());
  EXPECT_EQ(error_fields(notify({"ada@example.com\r\nBcc: eve@example.com"})),
            (std::vector<std::string>{"spec.notify.email[0]"}));
  EXPECT_EQ(error_fields(notify({"not-an-address"})),
            (std::vector<std::string>{"spec.notify.email[0]"}));
}

TEST(ParseTrainingJob, ErrorMessageNamesEveryField) {
  json s = {{"image", "busybox"},
            {"workers", 0},
            {"source", {{"git", {{"url", "--upload-pack=x"}, {"ref", "-b"}}}}}};
  try {
    api::parse_trainingjob(trainingjob(s));
    FAIL() << "expected a SpecError";
  } catch (const api::SpecError& e) {
    EXPECT_EQ(e.reason(), "InvalidSpec");
    std::string what = e.what();
    EXPECT_NE(what.find("spec.source.git.url"), std::string::npos) << what;
    EXPECT_NE(what.find("spec.source.git.ref"), std::string::npos) << what;
    EXPECT_NE(what.find("spec.workers"), std::string::npos) << what;
  }
}

// --- sweeps and substitution --------------------------------------------------------------------

api::TrainingJobSpec sweep_spec() {
  json s = image_spec();
  s["args"] = {"--lr=$(lr)", "--batch=$(batch)", "--tag=$$(lr)", "--home=$(HOME)"};
  s["sweep"] = {{"parameters",
                 {{{"name", "lr"}, {"values", {"0.1", "0.01"}}},
                  {{"name", "batch"}, {"values", {"32", "64", "128"}}}}}};
  return api::parse_trainingjob(trainingjob(s));
}

TEST(Sweep, WithoutParametersThereIsOneRunWithoutValues) {
  auto runs = api::sweep_combinations(api::parse_trainingjob(trainingjob(image_spec())));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].index, 0);
  EXPECT_TRUE(runs[0].values.empty());
}

TEST(Sweep, CartesianProductInDeclarationOrder) {
  auto runs = api::sweep_combinations(sweep_spec());
  ASSERT_EQ(runs.size(), 6u);
  using V = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(runs[0].values, (V{{"lr", "0.1"}, {"batch", "32"}}));
  EXPECT_EQ(runs[1].values, (V{{"lr", "0.1"}, {"batch", "64"}}));
  EXPECT_EQ(runs[2].values, (V{{"lr", "0.1"}, {"batch", "128"}}));
  EXPECT_EQ(runs[3].values, (V{{"lr", "0.01"}, {"batch", "32"}}));
  EXPECT_EQ(runs[5].values, (V{{"lr", "0.01"}, {"batch", "128"}}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(runs[i].index, i);
}

TEST(Sweep, SubstitutesParametersOnly) {
  auto spec = sweep_spec();
  auto runs = api::sweep_combinations(spec);
  EXPECT_EQ(api::substitute_args(spec.args, runs[4]),
            (std::vector<std::string>{"--lr=0.01", "--batch=64", "--tag=$$(lr)", "--home=$(HOME)"}))
      << "$$(x) is Kubernetes' escape and $(HOME) is left for Kubernetes to expand";
}

TEST(Sweep, DollarsInValuesArriveLiterally) {
  api::SweepRun run{0, {{"p", "a$(HOME)$b"}}};
  EXPECT_EQ(api::substitute_args({"$(p)", "x$(p)y", "$(p"}, run),
            (std::vector<std::string>{"a$$(HOME)$$b", "xa$$(HOME)$$by", "$(p"}));
}

// --- rendering ----------------------------------------------------------------------------------

OperatorConfig config() {
  return OperatorConfig{};
}

RenderInput input(const json& tj, bool datasets = false) {
  RenderInput in;
  in.spec = api::parse_trainingjob(tj);
  in.resources = in.spec.resources;
  in.image = in.spec.image;
  in.datasets_present = datasets;
  return in;
}

json children_of(const json& tj, const RenderInput& in, int run_index) {
  auto runs = api::sweep_combinations(in.spec);
  const auto& run = runs.at(run_index);
  json out = {{"job", render_run_job(tj, in, run, config())}};
  if (auto svc = render_run_service(tj, in, run)) out["service"] = *svc;
  return out;
}

struct GoldenCase {
  std::string name;
  json spec;
  bool datasets = false;
  int run = 0;
};

std::vector<GoldenCase> golden_cases() {
  json single = image_spec();
  single["args"] = {"--epochs", "10"};
  single["env"] = {{{"name", "WANDB_MODE"}, {"value", "offline"}}};
  single["retries"] = 2;
  single["deadlineSeconds"] = 7200;

  json workers = image_spec();
  workers["command"] = {"torchrun", "--nnodes=2", "--node-rank=$(RANK)", "train.py"};
  workers["workers"] = 2;
  workers["resources"] = {{"gpus", 4}, {"gpuProduct", "NVIDIA-A100-SXM4-80GB"}};

  json git = image_spec();
  git["source"] = {
      {"git", {{"url", "https://github.com/org/resnet.git"}, {"ref", "v1.2"}, {"path", "src"}}}};

  json workspace = image_spec();
  workspace["source"] = {{"workspace", {{"name", "alice-dev"}, {"path", "projects/resnet"}}}};

  json configmap = image_spec();
  configmap["source"] = {{"configMap", {{"name", "resnet-code"}}}};
  configmap["resources"] = json::object();

  json sweep = image_spec();
  sweep["args"] = {"--lr=$(lr)", "--batch=$(batch)"};
  sweep["sweep"] = {{"parameters",
                     {{{"name", "lr"}, {"values", {"0.1", "0.01"}}},
                      {{"name", "batch"}, {"values", {"32", "64", "128"}}}}}};
  return {{"single-run", single},
          {"two-workers", workers},
          {"git-source", git},
          {"workspace-source", workspace},
          {"configmap-source", configmap},
          {"sweep-run", sweep, true, 4}};
}

TEST(Render, GoldenFiles) {
  for (const auto& c : golden_cases()) {
    SCOPED_TRACE(c.name);
    json tj = trainingjob(c.spec);
    expect_golden(c.name, children_of(tj, input(tj, c.datasets), c.run));
  }
}

TEST(Render, EveryChildValidatesStrictly) {
  for (const auto& c : golden_cases()) {
    SCOPED_TRACE(c.name);
    json tj = trainingjob(c.spec);
    auto in = input(tj, c.datasets);
    for (const auto& run : api::sweep_combinations(in.spec)) {
      expect_strictly_valid(render_run_job(tj, in, run, config()));
      expect_strictly_valid(job_for_apply(render_run_job(tj, in, run, config())));
      if (auto svc = render_run_service(tj, in, run)) expect_strictly_valid(*svc);
    }
  }
}

TEST(Render, JobIsCreatedSuspendedAndAppliedWithoutSuspend) {
  json tj = trainingjob(image_spec());
  auto in = input(tj);
  json job = render_run_job(tj, in, api::sweep_combinations(in.spec)[0], config());
  EXPECT_EQ(job["spec"]["suspend"], true);
  EXPECT_EQ(job["metadata"]["name"], "resnet-0");
  EXPECT_FALSE(job["spec"].contains("ttlSecondsAfterFinished"))
      << "the TrainingJob keeps its runs; its own TTL deletes them";
  EXPECT_FALSE(job_for_apply(job)["spec"].contains("suspend"));
  EXPECT_EQ(job["spec"]["template"]["spec"]["automountServiceAccountToken"], false);
  EXPECT_EQ(job["spec"]["template"]["spec"]["enableServiceLinks"], false)
      << "no variables for every Service of the namespace in user code";
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "TrainingJob");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["controller"], true);
  json labels = job["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels, (json{{"remotecode.dev/kind", "trainingjob"},
                          {"remotecode.dev/name", "resnet"},
                          {"remotecode.dev/run", "0"}}));
}

TEST(Render, SpecHashFollowsTheRenderedSpec) {
  json tj = trainingjob(image_spec());
  auto in = input(tj);
  auto run = api::sweep_combinations(in.spec)[0];
  auto hash = [&](const RenderInput& i) {
    return render_run_job(tj, i, run, config())["metadata"]["annotations"][kSpecHashAnnotation];
  };
  EXPECT_EQ(hash(in), hash(in));
  auto other = in;
  other.image = "pytorch/pytorch:2.5.0";
  EXPECT_NE(hash(in), hash(other));
  auto with_data = in;
  with_data.datasets_present = true;
  EXPECT_NE(hash(in), hash(with_data));
}

TEST(Render, GitUrlAndRefReachTheShellOnlyAsPositionalParameters) {
  json s = image_spec();
  s["source"] = {{"git", {{"url", "https://example.com/a.git"}, {"ref", "main"}}}};
  json tj = trainingjob(s);
  auto in = input(tj);
  json job = render_run_job(tj, in, api::sweep_combinations(in.spec)[0], config());
  json cmd = job["spec"]["template"]["spec"]["initContainers"][0]["command"];
  ASSERT_EQ(cmd.size(), 6u);
  EXPECT_EQ(cmd[0], "sh");
  EXPECT_EQ(cmd[1], "-c");
  std::string script = cmd[2];
  EXPECT_EQ(script.find("example.com"), std::string::npos) << "the script is a constant";
  EXPECT_EQ(cmd[4], "https://example.com/a.git");
  EXPECT_EQ(cmd[5], "main");
  // Another URL changes the arguments, never the script.
  s["source"]["git"]["url"] = "https://example.com/$(reboot).git";
  json tj2 = trainingjob(s);
  auto in2 = input(tj2);
  json cmd2 = render_run_job(tj2, in2, api::sweep_combinations(in2.spec)[0],
                             config())["spec"]["template"]["spec"]["initContainers"][0]["command"];
  EXPECT_EQ(cmd2[2], cmd[2]);
}

TEST(Render, SingleWorkerHasNoServiceNorRendezvousEnv) {
  json tj = trainingjob(image_spec());
  auto in = input(tj);
  auto run = api::sweep_combinations(in.spec)[0];
  EXPECT_FALSE(render_run_service(tj, in, run));
  json job = render_run_job(tj, in, run, config());
  EXPECT_FALSE(job["spec"].contains("completionMode"));
  EXPECT_FALSE(job["spec"]["template"]["spec"].contains("subdomain"));
  EXPECT_FALSE(job["spec"]["template"]["spec"]["containers"][0].contains("env"));
}

TEST(Render, NothingScriptsTheSimulator) {
  for (const auto& c : golden_cases()) {
    json tj = trainingjob(c.spec);
    std::string text = children_of(tj, input(tj, c.datasets), c.run).dump();
    EXPECT_EQ(text.find("sim.remotecode.dev"), std::string::npos) << c.name;
  }
}

// --- status -------------------------------------------------------------------------------------

const util::SystemTime kNow = *util::parse_rfc3339("2026-01-10T10:00:00Z");

json job(const std::string& name, bool suspend, json status = json::object()) {
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", {{"name", name}, {"namespace", "team-a"}}},
          {"spec", {{"suspend", suspend}}},
          {"status", status}};
}

json running_job(const std::string& name, const std::string& start = "2026-01-10T09:30:00Z") {
  return job(name, false, {{"startTime", start}, {"active", 1}});
}

json finished_job(const std::string& name, bool ok, const std::string& start,
                  const std::string& end) {
  json st = {{"startTime", start}};
  if (ok) {
    st["completionTime"] = end;
    st["conditions"] = {{{"type", "Complete"}, {"status", "True"}, {"lastTransitionTime", end}}};
  } else {
    st["conditions"] = {{{"type", "Failed"},
                         {"status", "True"},
                         {"reason", "BackoffLimitExceeded"},
                         {"lastTransitionTime", end}}};
  }
  return job(name, false, st);
}

struct StatusCase {
  json tj;
  api::TrainingJobSpec spec;
  std::vector<json> jobs;  // by run; null entries: not created
  std::vector<RunView> views;
  util::SystemTime now = kNow;

  explicit StatusCase(json spec_json, json status = json::object()) {
    tj = trainingjob(spec_json);
    if (!status.empty()) tj["status"] = status;
    spec = api::parse_trainingjob(tj);
    jobs.resize(api::sweep_combinations(spec).size());
  }
  json compute(int64_t gpus_per_run = 1) {
    StatusInput in;
    in.trainingjob = &tj;
    in.spec = &spec;
    in.gpus_per_run = gpus_per_run;
    in.now = now;
    auto runs = api::sweep_combinations(spec);
    for (size_t i = 0; i < runs.size(); ++i) {
      RunView v = i < views.size() ? views[i] : RunView{};
      v.run = runs[i];
      v.job_name = run_name("resnet", runs[i].index);
      v.job = jobs[i].is_null() ? nullptr : &jobs[i];
      in.runs.push_back(v);
    }
    return compute_status(in);
  }
};

const json* condition(const json& status, const std::string& type) {
  return rc::controllers::find_condition(status, type);
}

TEST(Status, WaitingRunShowsItsQueuePosition) {
  StatusCase c(image_spec());
  c.jobs[0] = job("resnet-0", true);
  c.views = {RunView{}};
  c.views[0].queue_position = 3;
  json st = c.compute();
  EXPECT_EQ(st["phase"], "Queued");
  EXPECT_EQ(st["queuePosition"], 3);
  EXPECT_EQ(st["progress"], "0/1");
  EXPECT_EQ(st["runs"][0]["phase"], "Queued");
  EXPECT_EQ(st["runs"][0]["name"], "resnet-0");
  EXPECT_EQ(st["observedGeneration"], 2);
  EXPECT_EQ((*condition(st, "Admitted"))["reason"], "Queued");
  EXPECT_EQ((*condition(st, "Valid"))["status"], "True");
  EXPECT_FALSE(st.contains("startTime"));
}

TEST(Status, RunningThenSucceededWithTimesAndGpuSeconds) {
  StatusCase c(image_spec());
  c.jobs[0] = running_job("resnet-0", "2026-01-10T09:30:00Z");
  c.now = *util::parse_rfc3339("2026-01-10T09:40:30Z");
  json st = c.compute(2);
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_FALSE(st.contains("queuePosition"));
  EXPECT_EQ(st["startTime"], "2026-01-10T09:30:00Z");
  EXPECT_EQ(st["gpuSeconds"], 10 * 60 * 2) << "10 whole running minutes on 2 GPUs";
  EXPECT_EQ((*condition(st, "Admitted"))["status"], "True");

  c.tj["status"] = st;
  c.jobs[0] = finished_job("resnet-0", true, "2026-01-10T09:30:00Z", "2026-01-10T09:45:30Z");
  st = c.compute(2);
  EXPECT_EQ(st["phase"], "Succeeded");
  EXPECT_EQ(st["progress"], "1/1");
  EXPECT_EQ(st["runsSucceeded"], 1);
  EXPECT_EQ(st["completionTime"], "2026-01-10T09:45:30Z");
  EXPECT_EQ(st["runs"][0]["completionTime"], "2026-01-10T09:45:30Z");
  EXPECT_EQ(st["gpuSeconds"], 930 * 2);
  EXPECT_EQ(st["notified"], false);
}

TEST(Status, RunningGpuSecondsCountWholeMinutesSoRereconcilingWritesNothing) {
  StatusCase c(image_spec());
  c.jobs[0] = running_job("resnet-0", "2026-01-10T09:59:20Z");
  json st = c.compute();
  EXPECT_EQ(st["gpuSeconds"], 0);
  c.tj["status"] = st;
  EXPECT_EQ(c.compute(), st) << "computing again from its own output changes nothing";
}

TEST(Status, GpuSecondsNeverDecrease) {
  StatusCase c(image_spec(), {{"gpuSeconds", 100000}});
  c.jobs[0] = running_job("resnet-0");
  EXPECT_EQ(c.compute()["gpuSeconds"], 100000);
}

TEST(Status, SweepFinishesEveryRunBeforeFailing) {
  json s = image_spec();
  s["sweep"] = {{"parameters", {{{"name", "lr"}, {"values", {"0.1", "0.01", "0.001"}}}}}};
  StatusCase c(s);
  c.jobs[0] = finished_job("resnet-0", false, "2026-01-10T09:00:00Z", "2026-01-10T09:10:00Z");
  c.jobs[1] = running_job("resnet-1");
  c.jobs[2] = job("resnet-2", true);
  json st = c.compute();
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_EQ(st["progress"], "1/3");
  EXPECT_EQ(st["runsFailed"], 1);
  EXPECT_EQ(st["runs"][0]["values"], (json{{"lr", "0.1"}}));
  EXPECT_EQ(st["runs"][0]["phase"], "Failed");
  EXPECT_EQ(st["runs"][2]["phase"], "Queued");

  c.jobs[1] = finished_job("resnet-1", true, "2026-01-10T09:30:00Z", "2026-01-10T09:50:00Z");
  c.jobs[2] = finished_job("resnet-2", true, "2026-01-10T09:40:00Z", "2026-01-10T09:55:00Z");
  st = c.compute();
  EXPECT_EQ(st["phase"], "Failed");
  EXPECT_EQ(st["progress"], "3/3");
  EXPECT_EQ(st["completionTime"], "2026-01-10T09:55:00Z");
  EXPECT_EQ(st["startTime"], "2026-01-10T09:00:00Z");
}

TEST(Status, NeverFitsFailsAndStaysForThisGeneration) {
  StatusCase c(image_spec());
  c.jobs[0] = job("resnet-0", true);
  c.views = {RunView{}};
  c.views[0].never_fits = "needs 8 GPUs; the namespace's quota is 2";
  json st = c.compute();
  EXPECT_EQ(st["phase"], "Failed");
  const json* admitted = condition(st, "Admitted");
  ASSERT_TRUE(admitted);
  EXPECT_EQ((*admitted)["reason"], "NeverFits");
  EXPECT_EQ((*admitted)["message"], "needs 8 GPUs; the namespace's quota is 2");
  EXPECT_EQ(st["completionTime"], "2026-01-10T10:00:00Z");

  // The queue no longer lists a finished job's runs: the verdict is kept.
  c.tj["status"] = st;
  c.views.clear();
  EXPECT_EQ(c.compute(), st);

  // A new generation of the spec is judged again.
  c.tj["metadata"]["generation"] = 3;
  EXPECT_EQ(c.compute()["phase"], "Queued");
}

TEST(Status, SuspendStopsAndKeepsFinishedRuns) {
  json s = image_spec();
  s["suspend"] = true;
  s["sweep"] = {{"parameters", {{{"name", "lr"}, {"values", {"0.1", "0.01"}}}}}};
  StatusCase c(s);
  c.jobs[0] = finished_job("resnet-0", true, "2026-01-10T09:00:00Z", "2026-01-10T09:10:00Z");
  c.jobs[1] = job("resnet-1", true);
  json st = c.compute();
  EXPECT_EQ(st["phase"], "Stopped");
  EXPECT_EQ(st["runs"][0]["phase"], "Succeeded");
  EXPECT_EQ(st["runs"][1]["phase"], "Stopped");
  EXPECT_EQ((*condition(st, "Admitted"))["reason"], "Stopped");
}

TEST(Status, MetricsMergeOverPreviousValues) {
  json previous_run = {{"index", 0}, {"metrics", {{"loss", 0.9}, {"acc", 0.5}}}, {"step", 3}};
  StatusCase c(image_spec(), {{"runs", json::array({previous_run})}});
  c.jobs[0] = running_job("resnet-0");
  c.views = {RunView{}};
  c.views[0].metrics = rc::controllers::MetricSummary{{{"loss", 0.25}}, 7};
  json st = c.compute();
  EXPECT_EQ(st["runs"][0]["metrics"], (json{{"loss", 0.25}, {"acc", 0.5}}));
  EXPECT_EQ(st["runs"][0]["step"], 7);
  c.views.clear();
  c.tj["status"] = st;
  EXPECT_EQ(c.compute()["runs"][0]["metrics"], st["runs"][0]["metrics"]) << "kept between reads";
}

TEST(Status, FinishedRunKeepsItsResultWhenItsJobIsDeleted) {
  json previous_run = {{"index", 0},
                       {"phase", "Succeeded"},
                       {"startTime", "2026-01-10T09:00:00Z"},
                       {"completionTime", "2026-01-10T09:10:00Z"}};
  StatusCase c(image_spec(), {{"runs", json::array({previous_run})}});
  json st = c.compute();
  EXPECT_EQ(st["phase"], "Succeeded");
  EXPECT_EQ(st["runs"][0]["completionTime"], "2026-01-10T09:10:00Z");
}

TEST(Status, NotifiedIsKeptOnlyWhileFinished) {
  StatusCase done(image_spec(), {{"notified", true}, {"phase", "Succeeded"}});
  done.jobs[0] = finished_job("resnet-0", true, "2026-01-10T09:00:00Z", "2026-01-10T09:10:00Z");
  EXPECT_EQ(done.compute()["notified"], true);
  StatusCase again(image_spec(), {{"notified", true}});
  again.jobs[0] = running_job("resnet-0");
  EXPECT_EQ(again.compute()["notified"], false);
}

TEST(Status, UnresolvedInputsSayWhat) {
  StatusCase c(image_spec());
  StatusInput in;
  in.trainingjob = &c.tj;
  in.spec = &c.spec;
  in.now = kNow;
  RunView v;
  v.job_name = "resnet-0";
  in.runs = {v};
  in.unresolved =
      rc::controllers::Condition{"Resolved", "False", "TemplateNotReady", "no image yet"};
  json st = compute_status(in);
  EXPECT_EQ(st["phase"], "Queued");
  EXPECT_EQ((*condition(st, "Resolved"))["reason"], "TemplateNotReady");
}

TEST(Status, RunPhases) {
  EXPECT_EQ(run_phase(nullptr, false), "Queued");
  EXPECT_EQ(run_phase(nullptr, true), "Stopped");
  json suspended = job("a", true);
  EXPECT_EQ(run_phase(&suspended, false), "Queued");
  EXPECT_EQ(run_phase(&suspended, true), "Stopped");
  json running = running_job("a");
  EXPECT_EQ(run_phase(&running, false), "Running");
  json ok = finished_job("a", true, "2026-01-10T09:00:00Z", "2026-01-10T09:10:00Z");
  EXPECT_EQ(run_phase(&ok, true), "Succeeded");
  json bad = finished_job("a", false, "2026-01-10T09:00:00Z", "2026-01-10T09:10:00Z");
  EXPECT_EQ(run_phase(&bad, false), "Failed");
}

TEST(Status, TtlExpiry) {
  auto spec =
      api::parse_trainingjob(trainingjob(with(image_spec(), "ttlSecondsAfterFinished", 60)));
  json st = {{"phase", "Succeeded"}, {"completionTime", "2026-01-10T09:10:00Z"}};
  EXPECT_EQ(ttl_expiry(st, spec), util::parse_rfc3339("2026-01-10T09:11:00Z"));
  st["phase"] = "Running";
  EXPECT_FALSE(ttl_expiry(st, spec));
  auto no_ttl = api::parse_trainingjob(trainingjob(image_spec()));
  EXPECT_FALSE(
      ttl_expiry({{"phase", "Failed"}, {"completionTime", "2026-01-10T09:10:00Z"}}, no_ttl));
}

// --- the queue's inputs -------------------------------------------------------------------------

runtime::ObjectPtr ptr(json j) {
  return std::make_shared<const json>(std::move(j));
}

json owned_job(const std::string& tj, int run, bool suspend, int gpus, int workers = 1,
               const std::string& rv = "10") {
  json container = {{"name", "trainer"}, {"image", "x"}};
  if (gpus > 0) container["resources"] = {{"limits", {{"nvidia.com/gpu", std::to_string(gpus)}}}};
  return {{"metadata",
           {{"name", tj + "-" + std::to_string(run)},
            {"namespace", "team-a"},
            {"resourceVersion", rv},
            {"labels", {{"remotecode.dev/run", std::to_string(run)}}},
            {"ownerReferences",
             {{{"kind", "TrainingJob"}, {"name", tj}, {"controller", true}, {"uid", "u"}}}}}},
          {"spec",
           {{"suspend", suspend},
            {"parallelism", workers},
            {"template", {{"spec", {{"containers", json::array({container})}}}}}}}};
}

json a_trainingjob(const std::string& name, int priority = 0, bool suspend = false,
                   const std::string& phase = "") {
  json tj = trainingjob({{"image", "x"}, {"priority", priority}, {"suspend", suspend}}, name);
  if (!phase.empty()) tj["status"] = {{"phase", phase}};
  return tj;
}

struct QueueCase {
  ClusterView view;
  std::map<std::string, runtime::ObjectPtr> tjs;
  Ledger ledger;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();

  QueueCase() {
    view.trainingjob = [this](const std::string& key) {
      auto it = tjs.find(key);
      return it == tjs.end() ? nullptr : it->second;
    };
  }
  void add_tj(json tj) { tjs["team-a/" + tj["metadata"]["name"].get<std::string>()] = ptr(tj); }
  QueueInputs gather(int max_running = 0) { return gather_queue(view, ledger, max_running, now); }
};

TEST(QueueInputs, SuspendedRunsWaitAndAdmittedOnesHoldGpus) {
  QueueCase q;
  q.add_tj(a_trainingjob("a", 5));
  q.add_tj(a_trainingjob("b"));
  q.view.jobs = {ptr(owned_job("a", 0, true, 2, 2)), ptr(owned_job("a", 1, true, 2, 2)),
                 ptr(owned_job("b", 0, false, 1))};
  auto in = q.gather(3);
  ASSERT_EQ(in.waiting.size(), 2u);
  const auto& w = in.waiting[0].index == 0 ? in.waiting[0] : in.waiting[1];
  EXPECT_EQ(w.key, "team-a/a-0");
  EXPECT_EQ(w.owner, "team-a/a");
  EXPECT_EQ(w.priority, 5);
  EXPECT_EQ(w.created, "2026-01-10T09:00:00Z");
  EXPECT_EQ(w.gpus_per_worker, 2);
  EXPECT_EQ(w.workers, 2);
  EXPECT_EQ(in.state.gpus_in_use["team-a"], 1);
  EXPECT_EQ(in.state.running_runs, 1);
  EXPECT_EQ(in.state.max_running_runs, 3);
}

TEST(QueueInputs, FinishedStoppedAndForeignJobsDoNotWait) {
  QueueCase q;
  q.add_tj(a_trainingjob("stopped", 0, true));
  q.add_tj(a_trainingjob("done", 0, false, "Failed"));
  q.add_tj(a_trainingjob("live"));
  json finished = owned_job("live", 0, false, 4);
  finished["status"] = {{"conditions", {{{"type", "Complete"}, {"status", "True"}}}}};
  json foreign = owned_job("other", 0, true, 1);
  foreign["metadata"].erase("ownerReferences");
  q.view.jobs = {ptr(owned_job("stopped", 0, true, 1)), ptr(owned_job("done", 0, true, 1)),
                 ptr(finished), ptr(foreign), ptr(owned_job("gone", 0, true, 1))};
  auto in = q.gather();
  EXPECT_TRUE(in.waiting.empty());
  EXPECT_EQ(in.state.gpus_in_use["team-a"], 0) << "a finished Job holds nothing";
  EXPECT_EQ(in.state.running_runs, 0);
}

TEST(QueueInputs, QuotasNodesAndWorkspaces) {
  QueueCase q;
  q.view.quotas = {ptr({{"metadata", {{"name", "q1"}, {"namespace", "team-a"}}},
                        {"spec", {{"hard", {{"requests.nvidia.com/gpu", "4"}, {"pods", "10"}}}}}}),
                   ptr({{"metadata", {{"name", "q2"}, {"namespace", "team-a"}}},
                        {"spec", {{"hard", {{"limits.nvidia.com/gpu", 2}}}}}}),
                   ptr({{"metadata", {{"name", "cpu"}, {"namespace", "team-b"}}},
                        {"spec", {{"hard", {{"requests.cpu", "8"}}}}}})};
  q.view.nodes = {ptr({{"metadata", {{"name", "gpu-node-0"}}},
                       {"status", {{"allocatable", {{"nvidia.com/gpu", "4"}}}}}}),
                  ptr({{"metadata", {{"name", "gpu-node-1"}}},
                       {"status", {{"allocatable", {{"nvidia.com/gpu", "8"}}}}}}),
                  ptr({{"metadata", {{"name", "cpu-node-0"}}},
                       {"status", {{"allocatable", {{"cpu", "16"}}}}}})};
  auto deployment = [](const std::string& kind, int replicas) {
    json container = {{"name", "ide"}, {"resources", {{"limits", {{"nvidia.com/gpu", "1"}}}}}};
    json pod_template = {{"spec", {{"containers", json::array({container})}}}};
    json md = {{"name", "d"}, {"namespace", "team-a"}, {"labels", {{"remotecode.dev/kind", kind}}}};
    return ptr({{"metadata", md}, {"spec", {{"replicas", replicas}, {"template", pod_template}}}});
  };
  q.view.deployments = {deployment("workspace", 1), deployment("workspace", 0),
                        deployment("something-else", 1)};
  auto in = q.gather();
  EXPECT_EQ(in.state.gpu_quota.at("team-a"), 2) << "the smallest quota binds";
  EXPECT_FALSE(in.state.gpu_quota.count("team-b"));
  EXPECT_EQ(in.state.max_gpus_per_node, 8);
  EXPECT_EQ(in.state.gpus_in_use["team-a"], 1) << "only running workspaces hold GPUs";

  QueueCase empty;
  EXPECT_FALSE(empty.gather().state.max_gpus_per_node) << "no node known";
}

TEST(QueueInputs, LedgerCoversAdmissionsTheCacheHasNotSeen) {
  QueueCase q;
  q.add_tj(a_trainingjob("a"));
  q.view.jobs = {ptr(owned_job("a", 0, true, 2, 1, "10"))};
  q.ledger["team-a/a-0"] = LedgerEntry{"team-a", 2, "12", q.now};
  auto in = q.gather();
  EXPECT_TRUE(in.waiting.empty()) << "admitted already: the cache is behind";
  EXPECT_EQ(in.state.gpus_in_use["team-a"], 2);
  EXPECT_EQ(in.state.running_runs, 1);
  EXPECT_EQ(q.ledger.size(), 1u);

  // The cache caught up and shows it unsuspended: the ledger lets go.
  q.view.jobs = {ptr(owned_job("a", 0, false, 2, 1, "12"))};
  in = q.gather();
  EXPECT_EQ(in.state.running_runs, 1);
  EXPECT_TRUE(q.ledger.empty());
}

TEST(QueueInputs, LedgerLetsGoOfStoppedTimedOutAndDeletedJobs) {
  QueueCase q;
  q.add_tj(a_trainingjob("a"));
  // Caught up (rv 13 >= 12) yet suspended: stopped after admission, it waits again.
  q.view.jobs = {ptr(owned_job("a", 0, true, 2, 1, "13"))};
  q.ledger["team-a/a-0"] = LedgerEntry{"team-a", 2, "12", q.now};
  auto in = q.gather();
  EXPECT_EQ(in.waiting.size(), 1u);
  EXPECT_TRUE(q.ledger.empty());

  q.view.jobs = {ptr(owned_job("a", 0, true, 2, 1, "10"))};
  q.ledger["team-a/a-0"] =
      LedgerEntry{"team-a", 2, "12", q.now - kLedgerTimeout - std::chrono::seconds(1)};
  EXPECT_EQ(q.gather().waiting.size(), 1u);
  EXPECT_TRUE(q.ledger.empty());

  q.view.jobs.clear();
  q.ledger["team-a/a-0"] = LedgerEntry{"team-a", 2, "12", q.now};
  EXPECT_EQ(q.gather().state.running_runs, 0);
  EXPECT_TRUE(q.ledger.empty());
}

TEST(QueueInputs, GpusOfPodTemplatesAndJobs) {
  json tmpl = {{"spec",
                {{"containers",
                  {{{"name", "a"}, {"resources", {{"limits", {{"nvidia.com/gpu", "2"}}}}}},
                   {{"name", "b"}, {"resources", {{"requests", {{"nvidia.com/gpu", 1}}}}}},
                   {{"name", "c"}}}}}}};
  EXPECT_EQ(pod_template_gpus(tmpl), 3);
  EXPECT_EQ(job_gpus(owned_job("a", 0, true, 4, 2)), 8);
}

}  // namespace

// The Template: spec parsing with the build-step rules (every rejection, injection attempts
// included), the Dockerfile and build hash, template_image, the rendered build ConfigMap, Job and
// share Secret (golden files, strict validation against the Kubernetes 1.32 OpenAPI schemas),
// and status as pure edits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "golden.h"
#include "remotecode/api/template.h"
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/template_render.h"
#include "remotecode/controllers/template_status.h"
#include "remotecode/schema/validator.h"

using nlohmann::json;
using namespace rc;
using namespace rc::controllers::tpl;
using rc::controllers::OperatorConfig;

namespace {

using rc::testing::expect_strictly_valid;
using rc::testing::kOpenApiDir;
void expect_golden(const std::string& name, const json& actual) {
  rc::testing::expect_golden("template", name, actual);
}

json a_template(json spec, const std::string& name = "pytorch") {
  return {{"apiVersion", "remotecode.dev/v1alpha1"},
          {"kind", "Template"},
          {"metadata",
           {{"name", name}, {"uid", "6f1c2a4e-0000-4000-8000-0000000000aa"}, {"generation", 2}}},
          {"spec", spec}};
}

json build_template(json steps, const std::string& base = "") {
  json build = {{"steps", steps}};
  if (!base.empty()) build["baseImage"] = base;
  return a_template({{"build", build}});
}

// The SpecError parse_template throws, or fails the test when it does not throw.
api::SpecError parse_error(const json& tpl) {
  try {
    api::parse_template(tpl);
  } catch (const api::SpecError& e) {
    return e;
  }
  ADD_FAILURE() << "parse_template accepted " << tpl.dump();
  return api::SpecError("none", {});
}

const char* kHash = "0123456789abcdef";

}  // namespace

// ---------------------------------------------------------------- build steps

TEST(TemplateBuildStep, AcceptsRunAndEnvLines) {
  for (const std::string step :
       {"RUN pip install torch==2.4.0", "run ok", "Run apt-get update && apt-get install -y git",
        "   RUN echo indented", "RUN [\"pip\", \"install\", \"numpy\"]", "ENV HF_HOME=/data/hf",
        "ENV A=1 B=\"two words\" C='single quoted'", "env KEY value with spaces",
        "ENV PATH=/opt/conda/bin:$PATH", "ENV ESCAPED=a\\ b", "RUN echo 'a # not a comment'",
        "RUN echo \"x\\\\y\" && true", "RUN test $((1<2)) -eq 1"})
    EXPECT_EQ(api::build_step_problem(step), "") << step;
}

TEST(TemplateBuildStep, RejectsOtherInstructions) {
  for (const std::string instruction :
       {"COPY", "ADD", "FROM", "USER", "ENTRYPOINT", "CMD", "ARG", "ONBUILD", "WORKDIR", "VOLUME",
        "SHELL", "EXPOSE", "LABEL", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER"}) {
    std::string step = instruction + " something";
    EXPECT_EQ(api::build_step_problem(step),
              "only RUN and ENV instructions are allowed, found \"" + instruction + "\"");
  }
  EXPECT_EQ(api::build_step_problem("copy . /"),
            "only RUN and ENV instructions are allowed, found \"copy\"");
  EXPECT_EQ(api::build_step_problem("RUNX foo"),
            "only RUN and ENV instructions are allowed, found \"RUNX\"");
  EXPECT_EQ(api::build_step_problem("ONBUILD RUN rm -rf /"),
            "only RUN and ENV instructions are allowed, found \"ONBUILD\"");
}

TEST(TemplateBuildStep, RejectsNewlinesAndControlCharacters) {
  const std::string one_line = "must be a single line: a newline would start another instruction";
  EXPECT_EQ(api::build_step_problem("RUN echo hi\nUSER root"), one_line);
  EXPECT_EQ(api::build_step_problem("RUN echo hi\rUSER root"), one_line);
  EXPECT_EQ(api::build_step_problem("RUN echo hi\n"), one_line);
  const std::string control = "must not contain control characters such as tabs";
  EXPECT_EQ(api::build_step_problem("RUN\techo"), control);
  EXPECT_EQ(api::build_step_problem(std::string("RUN echo \0 x", 11)), control);
  EXPECT_EQ(api::build_step_problem("RUN echo \x1b[31m"), control);
  EXPECT_EQ(api::build_step_problem("RUN echo \x7f"), control);
}

TEST(TemplateBuildStep, RejectsContinuationsHeredocsAndDirectives) {
  const std::string continuation =
      "must not end with \"\\\": a line continuation would join it to the next line";
  EXPECT_EQ(api::build_step_problem("RUN a \\"), continuation);
  EXPECT_EQ(api::build_step_problem("RUN a \\   "), continuation);
  EXPECT_EQ(api::build_step_problem("ENV A=b\\"), continuation);
  EXPECT_EQ(api::build_step_problem("RUN cat <<EOF"),
            "heredocs (\"<<\") are not allowed: they read the following lines");
  EXPECT_EQ(api::build_step_problem("RUN <<-EOT bash"),
            "heredocs (\"<<\") are not allowed: they read the following lines");
  const std::string comment = "comments and parser directives (\"#\") are not allowed";
  EXPECT_EQ(api::build_step_problem("# escape=`"), comment);
  EXPECT_EQ(api::build_step_problem("#syntax=docker/dockerfile:1"), comment);
  EXPECT_EQ(api::build_step_problem("   # a comment"), comment);
}

TEST(TemplateBuildStep, RejectsEmptyStepsAndRunOptions) {
  EXPECT_EQ(api::build_step_problem(""), "must not be empty");
  EXPECT_EQ(api::build_step_problem("    "), "must not be empty");
  EXPECT_EQ(api::build_step_problem("RUN"), "RUN needs arguments");
  EXPECT_EQ(api::build_step_problem("RUN    "), "RUN needs arguments");
  EXPECT_EQ(api::build_step_problem("ENV"), "ENV needs arguments");
  const std::string options =
      "RUN options such as --mount, --network or --security are not allowed";
  EXPECT_EQ(api::build_step_problem("RUN --mount=type=secret,id=npm cat /run/secrets/npm"),
            options);
  EXPECT_EQ(api::build_step_problem("RUN --security=insecure id"), options);
  EXPECT_EQ(api::build_step_problem("run   --network=host curl x"), options);
  EXPECT_EQ(api::build_step_problem(std::string(api::kMaxBuildStepLength + 1, 'x')),
            "is longer than 4096 characters");
}

TEST(TemplateBuildStep, ChecksEnvForms) {
  const std::string usage = "ENV needs KEY=value (several may follow each other) or KEY value";
  EXPECT_EQ(api::build_step_problem("ENV A"), usage);
  EXPECT_EQ(api::build_step_problem("ENV 1A=2"),
            "\"1A\" is not an environment variable name (letters, digits and '_', not starting "
            "with a digit)");
  EXPECT_EQ(api::build_step_problem("ENV A-B value"),
            "\"A-B\" is not an environment variable name (letters, digits and '_', not starting "
            "with a digit)");
  EXPECT_EQ(api::build_step_problem("ENV =x"),
            "\"\" is not an environment variable name (letters, digits and '_', not starting "
            "with a digit)");
  EXPECT_EQ(api::build_step_problem("ENV A=1 junk"), "\"junk\" is not KEY=value; " + usage);
  EXPECT_EQ(api::build_step_problem("ENV A=\"unterminated"), "ENV has an unterminated quote");
  EXPECT_EQ(api::build_step_problem("ENV A='x"), "ENV has an unterminated quote");
  EXPECT_EQ(api::build_step_problem("ENV $(id)=1"),
            "\"$(id)\" is not an environment variable name (letters, digits and '_', not "
            "starting with a digit)");
}

// ---------------------------------------------------------------- parse_template

TEST(TemplateParse, ImageTemplateWithDefaults) {
  auto t = api::parse_template(a_template({{"image", "ghcr.io/example/pytorch:2.4"}}));
  EXPECT_EQ(t.image, "ghcr.io/example/pytorch:2.4");
  EXPECT_FALSE(t.build);
  EXPECT_FALSE(t.repository);
  EXPECT_EQ(t.ide, api::Ide::VSCode);
  EXPECT_FALSE(t.sharing.enabled);
  EXPECT_FALSE(t.sharing.require_access_key);
}

TEST(TemplateParse, FullBuildTemplate) {
  json spec = {{"build",
                {{"baseImage", "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04"},
                 {"steps", {"RUN pip install torch", "ENV HF_HOME=/data/hf"}}}},
               {"repository", {{"url", "https://github.com/example/course.git"}, {"ref", "main"}}},
               {"ide", "jupyter"},
               {"resources",
                {{"default", {{"gpus", 1}, {"cpu", "4"}, {"memory", "16Gi"}}},
                 {"maximum", {{"gpus", 4}, {"gpuProduct", "NVIDIA-A100-SXM4-80GB"}}}}},
               {"sharing", {{"enabled", true}, {"requireAccessKey", true}}}};
  auto t = api::parse_template(a_template(spec));
  ASSERT_TRUE(t.build);
  EXPECT_EQ(t.build->base_image, "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04");
  EXPECT_EQ(t.build->steps,
            (std::vector<std::string>{"RUN pip install torch", "ENV HF_HOME=/data/hf"}));
  ASSERT_TRUE(t.repository);
  EXPECT_EQ(t.repository->url, "https://github.com/example/course.git");
  EXPECT_EQ(t.ide, api::Ide::Jupyter);
  EXPECT_EQ(t.defaults.gpus, 1);
  EXPECT_EQ(t.defaults.memory, "16Gi");
  EXPECT_EQ(t.maximum.gpus, 4);
  EXPECT_TRUE(t.sharing.enabled);
  EXPECT_TRUE(t.sharing.require_access_key);
}

TEST(TemplateParse, BadStepsAreNamedWithReasonInvalidBuildStep) {
  auto e = parse_error(
      build_template({"RUN apt-get update", "RUN ok", "COPY . /", "RUN echo hi\nUSER root"}));
  EXPECT_EQ(e.reason(), "InvalidBuildStep");
  ASSERT_EQ(e.errors().size(), 2u);
  EXPECT_EQ(e.errors()[0].field, "spec.build.steps[2]");
  EXPECT_EQ(e.errors()[0].message, "only RUN and ENV instructions are allowed, found \"COPY\"");
  EXPECT_EQ(e.errors()[1].field, "spec.build.steps[3]");
  EXPECT_EQ(std::string(e.what()),
            "spec.build.steps[2]: only RUN and ENV instructions are allowed, found \"COPY\"; "
            "spec.build.steps[3]: must be a single line: a newline would start another "
            "instruction");
}

TEST(TemplateParse, StepErrorsWinTheReasonOverOtherErrors) {
  json tpl = build_template({"RUN a \\"});
  tpl["spec"]["ide"] = "emacs";
  auto e = parse_error(tpl);
  EXPECT_EQ(e.reason(), "InvalidBuildStep");
  ASSERT_EQ(e.errors().size(), 2u);
  EXPECT_EQ(e.errors()[0].field, "spec.build.steps[0]");
  EXPECT_EQ(e.errors()[1].field, "spec.ide");
}

TEST(TemplateParse, ExactlyOneOfImageAndBuild) {
  auto neither = parse_error(a_template(json::object()));
  EXPECT_EQ(neither.reason(), "InvalidSpec");
  EXPECT_EQ(std::string(neither.what()),
            "spec: set either image (a ready image) or build (steps to build one)");
  auto both = parse_error(a_template({{"image", "x:1"}, {"build", {{"steps", {"RUN a"}}}}}));
  EXPECT_EQ(std::string(both.what()), "spec: set either image or build, not both");
}

TEST(TemplateParse, RejectsBadFields) {
  auto e = parse_error(a_template({{"image", "-oops"},
                                   {"ide", "emacs"},
                                   {"repository", {{"url", "-uexploit"}}},
                                   {"sharing", {{"enabled", "yes"}}}}));
  EXPECT_EQ(e.reason(), "InvalidSpec");
  std::vector<std::string> fields;
  for (const auto& f : e.errors()) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"spec.image", "spec.repository.url", "spec.ide",
                                              "spec.sharing.enabled"}));
}

TEST(TemplateParse, RejectsBadBaseImageAndTooManySteps) {
  auto e = parse_error(build_template(json::array(), "FROM x"));
  EXPECT_EQ(e.errors().at(0).field, "spec.build.baseImage");
  auto many = parse_error(build_template(json(std::vector<std::string>(101, "RUN true"))));
  EXPECT_EQ(many.errors().at(0).field, "spec.build.steps");
  EXPECT_EQ(many.errors().at(0).message,
            "at most 100 steps are allowed; join commands with && instead");
}

TEST(TemplateParse, DefaultsMustFitTheMaximum) {
  auto e = parse_error(a_template(
      {{"image", "x:1"}, {"resources", {{"default", {{"gpus", 8}}}, {"maximum", {{"gpus", 4}}}}}}));
  EXPECT_EQ(e.errors().at(0).field, "spec.resources.default.gpus");
  EXPECT_EQ(e.errors().at(0).message, "8 is more than the template's maximum of 4");
}

TEST(TemplateParse, NameMustBeAShortDnsLabel) {
  auto upper = parse_error(a_template({{"image", "x:1"}}, "PyTorch"));
  EXPECT_EQ(upper.errors().at(0).field, "metadata.name");
  auto dotted = parse_error(a_template({{"image", "x:1"}}, "py.torch"));
  EXPECT_EQ(dotted.errors().at(0).field, "metadata.name");
  auto long_name = parse_error(a_template({{"image", "x:1"}}, std::string(51, 'a')));
  EXPECT_EQ(long_name.errors().at(0).field, "metadata.name");
  EXPECT_NO_THROW(api::parse_template(a_template({{"image", "x:1"}}, std::string(50, 'a'))));
}

TEST(TemplateParse, IdeToString) {
  EXPECT_EQ(api::to_string(api::Ide::VSCode), "vscode");
  EXPECT_EQ(api::to_string(api::Ide::Jupyter), "jupyter");
  EXPECT_EQ(api::to_string(api::Ide::None), "none");
}

// ---------------------------------------------------------------- Dockerfile and hash

TEST(TemplateDockerfile, FromBaseThenStepsOnePerLine) {
  api::BuildSpec b{"", {"RUN pip install torch", "ENV A=1"}};
  EXPECT_EQ(api::dockerfile(b, "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04"),
            "FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04\nRUN pip install torch\nENV A=1\n");
  b.base_image = "python:3.12";
  EXPECT_EQ(api::dockerfile(b, "ignored:1"), "FROM python:3.12\nRUN pip install torch\nENV A=1\n");
}

TEST(TemplateBuildHash, StableSixteenHexCharacters) {
  api::BuildSpec b{"", {"RUN a", "RUN b"}};
  std::string h = api::build_hash(b, "cuda:12", "reg/x");
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(api::build_hash(b, "cuda:12", "reg/x"), h);
  // The default base and the same base named explicitly build the same image.
  EXPECT_EQ(api::build_hash({"cuda:12", {"RUN a", "RUN b"}}, "other:1", "reg/x"), h);
}

TEST(TemplateBuildHash, ChangesWithEveryInput) {
  api::BuildSpec b{"", {"RUN a", "RUN b"}};
  std::string h = api::build_hash(b, "cuda:12", "reg/x");
  EXPECT_NE(api::build_hash({"", {"RUN a", "RUN c"}}, "cuda:12", "reg/x"), h);
  EXPECT_NE(api::build_hash({"", {"RUN b", "RUN a"}}, "cuda:12", "reg/x"), h);
  EXPECT_NE(api::build_hash({"", {"RUN a"}}, "cuda:12", "reg/x"), h);
  EXPECT_NE(api::build_hash(b, "cuda:13", "reg/x"), h);
  EXPECT_NE(api::build_hash(b, "cuda:12", "reg/y"), h);
  // No two step lists serialise alike, even when their concatenations are equal.
  EXPECT_NE(api::build_hash({"", {"RUN ab"}}, "c", "r"),
            api::build_hash({"", {"RUN a", "b"}}, "c", "r"));
}

// ---------------------------------------------------------------- template_image

TEST(TemplateImage, SpecImageOrTheStatusImageOfTheCurrentBuild) {
  EXPECT_EQ(api::template_image(a_template({{"image", "ghcr.io/x/y:1"}})), "ghcr.io/x/y:1");
  json built = build_template({"RUN a"});
  EXPECT_EQ(api::template_image(built), "");
  built["status"] = {{"image", "reg/pytorch:0123456789abcdef"}, {"buildHash", "0123456789abcdef"}};
  EXPECT_EQ(api::template_image(built), "reg/pytorch:0123456789abcdef");
  // A new build is running: the status names the new hash, the old image is not offered.
  built["status"]["buildHash"] = "fedcba9876543210";
  EXPECT_EQ(api::template_image(built), "");
  built["status"] = {{"buildHash", "fedcba9876543210"}};
  EXPECT_EQ(api::template_image(built), "");
}

// ---------------------------------------------------------------- rendering

TEST(TemplateRender, NamesFitKubernetesLimits) {
  EXPECT_EQ(build_object_name("pytorch", kHash), "tpl-pytorch-01234567");
  EXPECT_EQ(share_secret_name("pytorch"), "tpl-pytorch-share");
  EXPECT_LE(build_object_name(std::string(api::kMaxTemplateNameLength, 'a'), kHash).size(), 63u);
  OperatorConfig config;
  config.registry = "registry.example:5000/rc";
  EXPECT_EQ(destination_repository(config, "pytorch"), "registry.example:5000/rc/pytorch");
  EXPECT_EQ(built_image(config, "pytorch", kHash),
            "registry.example:5000/rc/pytorch:" + std::string(kHash));
}

TEST(TemplateRender, GoldenBuildConfigMapAndJob) {
  OperatorConfig config;
  json tpl = build_template({"RUN pip install torch==2.4.0", "ENV HF_HOME=/data/hf"});
  auto spec = api::parse_template(tpl);
  expect_golden("configmap", render_dockerfile_configmap(tpl, *spec.build, kHash, config));
  expect_golden("job", render_build_job(tpl, kHash, config));
}

TEST(TemplateRender, GoldenJobWithPushSecretAndInsecureRegistry) {
  OperatorConfig config;
  config.registry = "registry.local:5000/rc";
  config.registry_push_secret = "registry-push";
  config.insecure_registry = true;
  config.builder_image = "gcr.io/kaniko-project/executor:v1.23.2-debug";
  expect_golden("job-push-secret-insecure",
                render_build_job(build_template({"RUN a"}), kHash, config));
}

TEST(TemplateRender, JobRunsKanikoWithTheRightArgumentsAndRestrictions) {
  OperatorConfig config;
  json job = render_build_job(build_template({"RUN a"}), kHash, config);
  const json& pod = job["spec"]["template"]["spec"];
  const json& c = pod["containers"][0];
  EXPECT_EQ(c["args"], json({"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace",
                             "--destination=" + config.registry + "/pytorch:" + kHash}));
  EXPECT_EQ(job["spec"]["backoffLimit"], 1);
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 3600);
  EXPECT_FALSE(job["spec"].contains("ttlSecondsAfterFinished"));
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json({"ALL"}));
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["enableServiceLinks"], false);
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "Template");
  EXPECT_EQ(job["metadata"]["namespace"], "remote-code-system");
  EXPECT_EQ(job["metadata"]["labels"]["remotecode.dev/kind"], "template-build");
  // Without a push secret there is no docker-config volume.
  EXPECT_EQ(pod["volumes"].size(), 1u);
}

TEST(TemplateRender, GoldenShareSecrets) {
  OperatorConfig config;
  json tpl = a_template({{"image", "x:1"}, {"sharing", {{"enabled", true}}}});
  expect_golden("share-secret", render_share_secret(tpl, {"abc123", ""}, config));
  expect_golden("share-secret-access-key", render_share_secret(tpl, {"abc123", "k3y"}, config));
}

TEST(TemplateRender, ShareValuesRoundTrip) {
  OperatorConfig config;
  json tpl = a_template({{"image", "x:1"}});
  json secret = render_share_secret(tpl, {"tok", "key"}, config);
  EXPECT_EQ(read_share_values(&secret), (ShareValues{"tok", "key"}));
  EXPECT_EQ(read_share_values(nullptr), ShareValues{});
  secret["data"]["token"] = "%%% not base64";
  EXPECT_EQ(read_share_values(&secret).token, "");
}

TEST(TemplateRender, EveryChildValidatesStrictly) {
  std::vector<OperatorConfig> configs(3);
  configs[1].registry_push_secret = "push";
  configs[2].insecure_registry = true;
  configs[2].namespace_name = "builds";
  std::vector<json> templates = {
      build_template({"RUN a"}),
      build_template({"RUN pip install x", "ENV A=1 B=2"}, "python:3.12"),
      build_template(json::array()),
      a_template({{"image", "x:1"}, {"sharing", {{"enabled", true}}}}, std::string(50, 'z'))};
  int checked = 0;
  for (const auto& config : configs) {
    for (const auto& tpl : templates) {
      std::string name = tpl["metadata"]["name"];
      api::BuildSpec build{"", {"RUN a"}};
      std::string hash =
          api::build_hash(build, config.default_base_image, destination_repository(config, name));
      expect_strictly_valid(render_dockerfile_configmap(tpl, build, hash, config));
      expect_strictly_valid(render_build_job(tpl, hash, config));
      expect_strictly_valid(render_share_secret(tpl, {"t", ""}, config));
      expect_strictly_valid(render_share_secret(tpl, {"t", "k"}, config));
      checked += 4;
    }
  }
  EXPECT_EQ(checked, 48);
}

// ---------------------------------------------------------------- Job outcome and logs

TEST(TemplateBuildOutcome, FromJobConditions) {
  json job = {{"metadata", {{"name", "tpl-x-01234567"}}}, {"status", json::object()}};
  EXPECT_EQ(job_outcome(job), JobOutcome::Running);
  job["status"]["conditions"] = {{{"type", "SuccessCriteriaMet"}, {"status", "True"}}};
  EXPECT_EQ(job_outcome(job), JobOutcome::Running);  // pods may still be finishing
  job["status"]["conditions"].push_back({{"type", "Complete"}, {"status", "True"}});
  EXPECT_EQ(job_outcome(job), JobOutcome::Succeeded);
  job["status"]["conditions"] = {{{"type", "Failed"},
                                  {"status", "True"},
                                  {"reason", "BackoffLimitExceeded"},
                                  {"message", "Job has reached the specified backoff limit"}}};
  EXPECT_EQ(job_outcome(job), JobOutcome::Failed);
  EXPECT_EQ(build_failure_message(job, "step 3 failed: pip not found"),
            "build Job tpl-x-01234567 failed (BackoffLimitExceeded: Job has reached the "
            "specified backoff limit); last lines of the build log:\nstep 3 failed: pip not found");
  EXPECT_EQ(build_failure_message(job, ""),
            "build Job tpl-x-01234567 failed (BackoffLimitExceeded: Job has reached the "
            "specified backoff limit); the builder left no log");
}

TEST(TemplateBuildOutcome, LastLinesOfALog) {
  EXPECT_EQ(last_lines("", 10), "");
  EXPECT_EQ(last_lines("a\nb\n\nc\r\n", 2), "b\nc");
  std::string log;
  for (int i = 1; i <= 20; ++i) log += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(last_lines(log, 3), "line 18\nline 19\nline 20");
  EXPECT_EQ(last_lines(std::string(50, 'x'), 10, 8), "...xxxxxxxx");
}

// ---------------------------------------------------------------- status

TEST(TemplateStatus, BuildingThenBuiltThenUnchanged) {
  StatusStamp t1{2, "2026-01-01T00:00:00Z"}, t2{2, "2026-01-01T00:05:00Z"};
  json status = json::object();
  mark_building(status, kHash, "tpl-pytorch-01234567", t1);
  EXPECT_EQ(status["phase"], "Building");
  EXPECT_FALSE(status.contains("image"));
  EXPECT_EQ(status["buildHash"], kHash);
  EXPECT_FALSE(controllers::condition_is_true(status, "Ready"));

  mark_built(status, "reg/pytorch:0123456789abcdef", kHash, "tpl-pytorch-01234567", t2);
  EXPECT_EQ(status["phase"], "Ready");
  EXPECT_EQ(status["image"], "reg/pytorch:0123456789abcdef");
  EXPECT_TRUE(controllers::condition_is_true(status, "Built"));
  EXPECT_TRUE(controllers::condition_is_true(status, "Ready"));
  EXPECT_EQ(status["observedGeneration"], 2);
  EXPECT_EQ((*controllers::find_condition(status, "Valid"))["lastTransitionTime"],
            "2026-01-01T00:00:00Z");  // Valid stayed True

  json again = status;
  mark_built(again, "reg/pytorch:0123456789abcdef", kHash, "tpl-pytorch-01234567",
             {2, "2026-01-01T01:00:00Z"});
  EXPECT_EQ(again, status) << "the same state must not change the status";
}

TEST(TemplateStatus, FailedBuildAndInvalidSpec) {
  StatusStamp at{3, "2026-01-01T00:00:00Z"};
  json status = {{"image", "reg/x:old"}};
  mark_build_failed(status, kHash, "tpl-x-01234567", "boom", at);
  EXPECT_EQ(status["phase"], "Failed");
  EXPECT_FALSE(status.contains("image"));
  const json* built = controllers::find_condition(status, "Built");
  ASSERT_TRUE(built);
  EXPECT_EQ((*built)["reason"], "BuildFailed");
  EXPECT_EQ((*built)["message"], "boom");

  api::SpecError error("InvalidBuildStep", {{"spec.build.steps[0]", "bad"}});
  mark_invalid(status, error, at);
  const json* valid = controllers::find_condition(status, "Valid");
  ASSERT_TRUE(valid);
  EXPECT_EQ((*valid)["status"], "False");
  EXPECT_EQ((*valid)["reason"], "InvalidBuildStep");
  EXPECT_EQ((*valid)["message"], "spec.build.steps[0]: bad");
  EXPECT_EQ(status["phase"], "Failed");
}

TEST(TemplateStatus, ImageTemplateDropsBuildFields) {
  StatusStamp at{1, "2026-01-01T00:00:00Z"};
  json status;
  mark_built(status, "reg/x:h", "h", "tpl-x-h", at);
  mark_image_ready(status, "ghcr.io/x:1", at);
  set_share_secret(status, "tpl-x-share");
  EXPECT_EQ(status["image"], "ghcr.io/x:1");
  EXPECT_EQ(status["shareSecret"], "tpl-x-share");
  EXPECT_FALSE(status.contains("buildHash"));
  EXPECT_FALSE(status.contains("buildJob"));
  EXPECT_EQ(controllers::find_condition(status, "Built"), nullptr);
  set_share_secret(status, "");
  EXPECT_FALSE(status.contains("shareSecret"));
}

// The helpers every controller shares: spec readers with errors that name fields, the
// apply-if-changed comparison, conditions, and the GPU/security settings pods get.
#include <gtest/gtest.h>

#include "remotecode/api/common.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/pod.h"
#include "remotecode/sim/pod_scripts.h"

using nlohmann::json;
using namespace rc;

namespace {

std::vector<std::string> fields(const api::Errors& e) {
  std::vector<std::string> out;
  for (const auto& f : e.list()) out.push_back(f.field);
  return out;
}

}  // namespace

TEST(SpecReaders, ResourcesParseAndNameBadFields) {
  api::Errors errors;
  auto r = api::parse_resources(
      json{{"gpus", 2}, {"gpuProduct", "NVIDIA-H100"}, {"cpu", "500m"}, {"memory", "16Gi"}},
      "spec.resources", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(r.gpus, 2);
  EXPECT_EQ(r.gpu_product, "NVIDIA-H100");
  EXPECT_EQ(r.cpu, "500m");

  api::Errors bad;
  api::parse_resources(json{{"gpus", 17}, {"memory", "lots"}, {"gpuProduct", "a b"}, {"cpu", true}},
                       "spec.resources", bad);
  EXPECT_EQ(fields(bad),
            (std::vector<std::string>{"spec.resources.gpus", "spec.resources.gpuProduct",
                                      "spec.resources.cpu", "spec.resources.memory"}));
}

TEST(SpecReaders, EffectiveResourcesRespectTheMaximum) {
  api::Resources defaults{1, "", std::nullopt, "2", "8Gi", "10Gi"};
  api::Resources maximum{4, "", std::nullopt, "16", "64Gi", "100Gi"};
  api::Errors errors;
  auto r = api::effective_resources(api::Resources{2, "", std::nullopt, "", "32Gi", ""}, defaults,
                                    maximum, "spec.resources", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(r.gpus, 2);
  EXPECT_EQ(r.cpu, "2");
  EXPECT_EQ(r.memory, "32Gi");
  EXPECT_EQ(r.home_size, "10Gi");

  api::Errors over;
  api::effective_resources(api::Resources{8, "", std::nullopt, "", "", "1Ti"}, defaults, maximum,
                           "spec.resources", over);
  ASSERT_EQ(over.list().size(), 2u);
  EXPECT_EQ(over.list()[0].field, "spec.resources.gpus");
  EXPECT_EQ(over.list()[0].message, "8 is more than the template's maximum of 4");
  EXPECT_EQ(over.list()[1].field, "spec.resources.homeSize");
}

TEST(SpecReaders, RepositoriesRefuseOptionInjection) {
  auto check = [](json repo) {
    api::Errors e;
    api::parse_repository(repo, "spec.repository", e);
    return fields(e);
  };
  EXPECT_TRUE(check({{"url", "https://github.com/org/repo.git"}, {"ref", "main"}}).empty());
  EXPECT_TRUE(check({{"url", "git@github.com:org/repo.git"}, {"ref", "v1.2/x"}}).empty());
  EXPECT_EQ(check({{"url", "--upload-pack=touch /tmp/x"}}),
            std::vector<std::string>{"spec.repository.url"});
  EXPECT_EQ(check({{"url", "ext::sh -c touch% /tmp/x"}}),
            std::vector<std::string>{"spec.repository.url"});
  EXPECT_EQ(check({{"url", "file:///etc"}}), std::vector<std::string>{"spec.repository.url"});
  EXPECT_EQ(check({{"url", "https://x.org/r\nevil"}}),
            std::vector<std::string>{"spec.repository.url"});
  EXPECT_EQ(check({{"url", "https://x.org/r"}, {"ref", "-b"}}),
            std::vector<std::string>{"spec.repository.ref"});
  EXPECT_EQ(check({{"url", "https://x.org/r"}, {"ref", "a..b"}}),
            std::vector<std::string>{"spec.repository.ref"});
  EXPECT_EQ(check(json::object()), std::vector<std::string>{"spec.repository.url"});
}

TEST(SpecReaders, SpecErrorJoinsMessages) {
  api::Errors e;
  e.add("spec.a", "bad");
  e.add("spec.b", "worse");
  try {
    e.throw_if_any("InvalidThing");
    FAIL() << "no throw";
  } catch (const api::SpecError& err) {
    EXPECT_EQ(err.reason(), "InvalidThing");
    EXPECT_STREQ(err.what(), "spec.a: bad; spec.b: worse");
  }
}

TEST(Children, SubsetIgnoresWhatTheServerAdds) {
  json desired =
      json::parse(R"({"spec": {"replicas": 1, "template": {"containers": [{"name": "a"}]}}})");
  json live = json::parse(R"({"spec": {"replicas": 1, "progressDeadlineSeconds": 600,
      "template": {"containers": [{"name": "a", "terminationMessagePath": "/dev/x"}]}},
      "status": {"replicas": 1}})");
  EXPECT_TRUE(controllers::is_subset(desired, live));
  live["spec"]["replicas"] = 0;
  EXPECT_FALSE(controllers::is_subset(desired, live));
  live["spec"]["replicas"] = 1;
  live["spec"]["template"]["containers"].push_back(json::parse(R"({"name": "b"})"));
  EXPECT_FALSE(controllers::is_subset(desired, live)) << "a list of another length differs";
  EXPECT_TRUE(controllers::is_subset(json::parse(R"({"a": {}})"), json::object()));
  EXPECT_TRUE(controllers::is_subset(json::parse(R"({"n": 1})"), json::parse(R"({"n": 1.0})")));
}

TEST(Children, MetadataCarriesLabelsAndOwner) {
  json owner = {{"apiVersion", "remotecode.dev/v1alpha1"},
                {"kind", "Workspace"},
                {"metadata", {{"name", "ws1"}, {"namespace", "u"}, {"uid", "uid-1"}}}};
  json md = controllers::child_metadata(owner, "ws1-home", "u", "workspace", {{"x", "y"}});
  EXPECT_EQ(md["labels"]["app.kubernetes.io/managed-by"], "remote-code");
  EXPECT_EQ(md["labels"]["remotecode.dev/name"], "ws1");
  EXPECT_EQ(md["labels"]["x"], "y");
  EXPECT_EQ(md["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(md["ownerReferences"][0]["controller"], true);
}

TEST(Conditions, TransitionTimeMovesOnlyWithStatus) {
  json status;
  controllers::set_condition(status, {"Ready", "False", "Starting", "pod starting"}, 1, "t1");
  controllers::set_condition(status, {"Ready", "False", "Starting", "still starting"}, 2, "t2");
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "t1");
  EXPECT_EQ(status["conditions"][0]["message"], "still starting");
  EXPECT_EQ(status["conditions"][0]["observedGeneration"], 2);
  controllers::set_condition(status, {"Ready", "True", "Running", "ok"}, 2, "t3");
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "t3");
  EXPECT_TRUE(controllers::condition_is_true(status, "Ready"));
  EXPECT_EQ(controllers::find_condition(status, "Valid"), nullptr);
}

TEST(Pods, GpuLimitsFollowTheSharingMode) {
  controllers::OperatorConfig c;
  api::Resources whole{2, "", std::nullopt, "", "", ""};
  api::Resources slice{1, "", 15000, "", "", ""};
  EXPECT_EQ(controllers::gpu_limits(whole, c), (json{{"nvidia.com/gpu", "2"}}));
  EXPECT_EQ(controllers::gpu_limits(slice, c), (json{{"nvidia.com/gpu", "1"}}))
      << "without sharing a slice is a whole GPU";
  EXPECT_EQ(controllers::gpu_limits(api::Resources{}, c), json::object());
  c.gpu_sharing = controllers::GpuSharing::Mig;
  EXPECT_EQ(controllers::gpu_limits(slice, c), (json{{"nvidia.com/mig-2g.20gb", "1"}}));
  EXPECT_EQ(controllers::gpu_limits(api::Resources{1, "", 200000, "", "", ""}, c),
            (json{{"nvidia.com/gpu", "1"}}))
      << "no MIG profile that large: a whole GPU";
  c.gpu_sharing = controllers::GpuSharing::Hami;
  EXPECT_EQ(controllers::gpu_limits(slice, c),
            (json{{"nvidia.com/gpu", "1"}, {"nvidia.com/gpumem", "15000"}}));
}

TEST(Pods, GpuPodsTolerateTheTaintAndSelectTheProduct) {
  json spec = json::object();
  controllers::add_gpu_scheduling(spec, api::Resources{1, "NVIDIA-H100", std::nullopt, "", "", ""});
  EXPECT_EQ(spec["nodeSelector"]["nvidia.com/gpu.product"], "NVIDIA-H100");
  EXPECT_EQ(spec["tolerations"][0]["key"], "nvidia.com/gpu");
  json cpu_only = json::object();
  controllers::add_gpu_scheduling(cpu_only, api::Resources{0, "", std::nullopt, "1", "", ""});
  EXPECT_EQ(cpu_only, json::object());
  auto res = controllers::container_resources(api::Resources{1, "", std::nullopt, "2", "4Gi", ""},
                                              controllers::OperatorConfig{});
  EXPECT_EQ(res, (json{{"requests", {{"cpu", "2"}, {"memory", "4Gi"}}},
                       {"limits", {{"memory", "4Gi"}, {"nvidia.com/gpu", "1"}}}}));
}

TEST(SimPodScripts, AnnotateMatchingPodsOnly) {
  sim::PodScripts scripts;
  scripts.set(json::parse(
      R"([{"selector": "job-name=b", "annotations": {"sim.remotecode.dev/exit-code": "1"}},
                              {"namespace": "other", "selector": "", "annotations": {"a": "x"}}])"));
  json pod = {{"metadata", {{"namespace", "ns"}, {"labels", {{"job-name", "b"}}}}}};
  scripts.apply(pod);
  EXPECT_EQ(pod["metadata"]["annotations"]["sim.remotecode.dev/exit-code"], "1");
  EXPECT_FALSE(pod["metadata"]["annotations"].contains("a"));
  json own = {{"metadata",
               {{"namespace", "ns"},
                {"labels", {{"job-name", "b"}}},
                {"annotations", {{"sim.remotecode.dev/exit-code", "0"}}}}}};
  scripts.apply(own);
  EXPECT_EQ(own["metadata"]["annotations"]["sim.remotecode.dev/exit-code"], "0");
  EXPECT_THROW(scripts.set(json::parse(R"([{"selector": "a in (", "annotations": {}}])")),
               std::invalid_argument);
  EXPECT_THROW(scripts.set(json::object()), std::invalid_argument);
}

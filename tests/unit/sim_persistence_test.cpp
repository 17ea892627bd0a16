// The simulator's state file: objects, custom resources (after their CRD), resourceVersions and
// running pods outlive a restart; a file that cannot be loaded stops the start and stays as is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "remotecode/kube/api_error.h"
#include "remotecode/kube/client.h"
#include "remotecode/kube/config.h"
#include "remotecode/sim/simulator.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const rc::kube::ResourceRef kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const rc::kube::ResourceRef kWidgets{"example.com", "v1", "widgets", true};
const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const rc::kube::ResourceRef kPods{"", "v1", "pods", true};

const json kWidgetCrd = json::parse(R"({
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
    "versions": [{"name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})");

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_until(const std::function<bool()>& done, double seconds = 15) {
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

uint64_t rv_of(const json& obj) {
  return std::stoull(obj["metadata"]["resourceVersion"].get<std::string>());
}

class SimPersistence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rc-sim-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    state_ = dir_ / "cluster.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  rc::sim::SimulatorOptions options() const {
    rc::sim::SimulatorOptions o;
    o.insecure_http = true;
    o.kubeconfig_out = (dir_ / "kubeconfig").string();
    o.state_file = state_.string();
    o.cluster.pod_start_seconds = 0.05;
    return o;
  }
  std::shared_ptr<rc::kube::Client> connect() const {
    rc::kube::ClientOptions co;
    co.qps = 0;
    return rc::kube::Client::connect(rc::kube::load_kubeconfig((dir_ / "kubeconfig").string()), co);
  }

  fs::path dir_, state_;
};

TEST_F(SimPersistence, ObjectsCustomResourcesAndResourceVersionsOutliveARestart) {
  json cm, widget, pod;
  uint64_t last_rv = 0;
  {
    rc::sim::Simulator sim(options());
    sim.start();
    auto c = connect();
    c->create(kCrds, "", kWidgetCrd);
    ASSERT_TRUE(wait_until([&] {
      for (const auto& cond :
           c->get(kCrds, "", "widgets.example.com")["status"].value("conditions", json::array()))
        if (cond.value("type", "") == "Established" && cond.value("status", "") == "True")
          return true;
      return false;
    }));
    cm = c->create(kConfigMaps, "default",
                   {{"metadata", {{"name", "settings"}}}, {"data", {{"color", "blue"}}}});
    widget = c->create(kWidgets, "default",
                       {{"apiVersion", "example.com/v1"},
                        {"kind", "Widget"},
                        {"metadata", {{"name", "w1"}}},
                        {"spec", {{"size", 3}}}});
    widget["status"] = {{"phase", "Shiny"}};
    widget = c->update_status(kWidgets, widget);
    // A scripted pod that runs 3 s and logs twice: it must finish after the restart.
    c->create(kPods, "default",
              {{"metadata",
                {{"name", "runner"},
                 {"annotations",
                  {{"sim.remotecode.dev/run-seconds", "3"},
                   {"sim.remotecode.dev/exit-code", "0"},
                   {"sim.remotecode.dev/log", "first\nsecond"}}}}},
               {"spec",
                {{"restartPolicy", "Never"},
                 {"containers", json::array({{{"name", "main"}, {"image", "busybox"}}})}}}});
    ASSERT_TRUE(wait_until([&] {
      pod = c->get(kPods, "default", "runner");
      return pod["status"].value("phase", "") == "Running";
    }));
    last_rv = std::stoull(c->list(kConfigMaps, "").resource_version);
    sim.stop();
  }
  json saved = json::parse(read_file(state_));
  ASSERT_GE(saved["resourceVersion"].get<uint64_t>(), last_rv);
  last_rv = saved["resourceVersion"].get<uint64_t>();
  EXPECT_EQ(saved["objects"][0]["kind"], "CustomResourceDefinition") << "CRDs come first";
  EXPECT_EQ(fs::status(state_).permissions() & fs::perms::others_read, fs::perms::none)
      << "the file holds Secrets";

  rc::sim::Simulator sim(options());
  sim.start();
  auto c = connect();
  json cm2 = c->get(kConfigMaps, "default", "settings");
  EXPECT_EQ(cm2["data"]["color"], "blue");
  EXPECT_EQ(cm2["metadata"]["uid"], cm["metadata"]["uid"]);
  EXPECT_EQ(cm2["metadata"]["resourceVersion"], cm["metadata"]["resourceVersion"]);
  // The CRD's type is served again, so its custom resource is there, status included.
  json widget2 = c->get(kWidgets, "default", "w1");
  EXPECT_EQ(widget2["spec"]["size"], 3);
  EXPECT_EQ(widget2["status"]["phase"], "Shiny");
  EXPECT_EQ(widget2["metadata"]["resourceVersion"], widget["metadata"]["resourceVersion"]);
  // The running pod kept running (same start, same IP), then finished when its run was over.
  json pod2 = c->get(kPods, "default", "runner");
  EXPECT_EQ(pod2["status"]["podIP"], pod["status"]["podIP"]);
  EXPECT_EQ(pod2["status"]["startTime"], pod["status"]["startTime"]);
  EXPECT_TRUE(wait_until(
      [&] {
        return c->get(kPods, "default", "runner")["status"].value("phase", "") == "Succeeded";
      },
      10));
  EXPECT_EQ(c->logs("default", "runner"), "first\nsecond\n");

  // New writes get resourceVersions past every one handed out before the restart.
  cm2["data"]["color"] = "red";
  json cm3 = c->update(kConfigMaps, cm2);
  EXPECT_GT(rv_of(cm3), last_rv);
  json other = c->create(kConfigMaps, "default", {{"metadata", {{"name", "other"}}}});
  EXPECT_GT(rv_of(other), rv_of(cm3));
  // A new pod gets an IP of its own.
  c->create(kPods, "default",
            {{"metadata", {{"name", "second"}}},
             {"spec", {{"containers", json::array({{{"name", "main"}, {"image", "busybox"}}})}}}});
  json second;
  ASSERT_TRUE(wait_until([&] {
    second = c->get(kPods, "default", "second");
    return second["status"].value("phase", "") == "Running";
  }));
  EXPECT_NE(second["status"]["podIP"], pod["status"]["podIP"]);

  // A watch from before the restart is told to list again.
  auto res = c->request({"GET",
                         "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" +
                             std::to_string(last_rv),
                         "", "", "application/json", 10000},
                        true);
  EXPECT_NE(res.body.find("\"code\":410"), std::string::npos) << res.body;
  sim.stop();

  // The last change made before stopping is on disk.
  json again = json::parse(read_file(state_));
  bool found = false;
  for (const auto& o : again["objects"])
    if (o["metadata"]["name"] == "settings") found = o["data"]["color"] == "red";
  EXPECT_TRUE(found);
}

TEST_F(SimPersistence, SavesWhileRunning) {
  rc::sim::Simulator sim(options());
  sim.start();
  auto c = connect();
  c->create(kConfigMaps, "default", {{"metadata", {{"name", "early"}}}});
  // Saved within a few seconds, without stopping: a crash loses at most the last moments.
  EXPECT_TRUE(wait_until(
      [&] { return read_file(state_).find("\"name\":\"early\"") != std::string::npos; }, 6));
  EXPECT_FALSE(fs::exists(dir_ / "cluster.json.tmp"));
  sim.stop();
}

TEST_F(SimPersistence, CorruptFileStopsTheStartAndIsKept) {
  const std::string corrupt = "{\"resourceVersion\": 12, \"objects\": [{\"kind\": ";
  std::ofstream(state_) << corrupt;
  {
    rc::sim::Simulator sim(options());
    try {
      sim.start();
      FAIL() << "started on a corrupt state file";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(state_.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(read_file(state_), corrupt);
}

TEST_F(SimPersistence, UnknownKindStopsTheStart) {
  // A custom resource whose CRD is not in the file cannot be served: say which object it is.
  std::ofstream(state_) << R"({"resourceVersion": 5, "objects": [
    {"apiVersion": "example.com/v1", "kind": "Widget",
     "metadata": {"name": "w1", "namespace": "default", "resourceVersion": "4"}}]})";
  rc::sim::Simulator sim(options());
  try {
    sim.start();
    FAIL() << "started with an object of no served kind";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("example.com/v1 Widget default/w1"), std::string::npos)
        << e.what();
  }
}

TEST_F(SimPersistence, MalformedObjectStopsTheStart) {
  std::ofstream(state_)
      << R"({"resourceVersion": 5, "objects": [{"apiVersion": 1, "kind": "Pod"}]})";
  rc::sim::Simulator sim(options());
  try {
    sim.start();
    FAIL() << "started with an object without a name";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("object 0 (? Pod /?) lacks"), std::string::npos)
        << e.what();
  }
}

TEST_F(SimPersistence, OneFileOneSimulator) {
  rc::sim::Simulator first(options());
  first.start();
  auto second_options = options();
  second_options.kubeconfig_out = (dir_ / "kubeconfig2").string();
  rc::sim::Simulator second(second_options);
  try {
    second.start();
    FAIL() << "two simulators share a state file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  first.stop();
}

}  // namespace

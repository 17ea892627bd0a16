// The TrainingJob controller's metric reader (operator/controllers/trainingjob/run_metrics.h)
// against an in-process `remote-code sim`: a finished run's log is read once and its metrics are
// kept, so a status update that fails after the read (a 409 when two runs finish together) does
// not lose them; a log that cannot be read is tried again a few times, then given up on.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "controllers/trainingjob/run_metrics.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/kube/client.h"
#include "remotecode/runtime/informer.h"
#include "remotecode/sim/simulator.h"

using nlohmann::json;
using namespace std::chrono_literals;
using rc::controllers::trainingjob::RunMetricsReader;

namespace {

const rc::kube::ResourceRef kNamespaces{"", "v1", "namespaces", false};

class RunMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rc-metrics-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    rc::sim::SimulatorOptions o;
    o.kubeconfig_out = (dir_ / "kubeconfig").string();
    o.cluster.pod_start_seconds = 0.1;
    sim_ = std::make_unique<rc::sim::Simulator>(o);
    sim_->start();
    rc::kube::ClientOptions co;
    co.qps = 0;
    client_ = rc::kube::Client::connect(rc::kube::load_kubeconfig(o.kubeconfig_out), co);
    client_->create(kNamespaces, "", {{"metadata", {{"name", "ml"}}}});
    rc::runtime::InformerOptions io;
    io.namespace_name = "ml";
    pods_ = std::make_shared<rc::runtime::Informer>(client_, rc::controllers::refs::pods(), io);
    pods_->start();
    ASSERT_TRUE(pods_->wait_for_sync(10s));
  }
  void TearDown() override {
    if (pods_) pods_->stop();
    pods_.reset();
    client_.reset();
    if (sim_) sim_->stop();
    std::filesystem::remove_all(dir_);
  }
  // The rank-0 pod of Job `job`, scripted by the simulator's annotations; waits until the
  // pods informer has it in `phase`.
  void run_pod(const std::string& job, const json& annotations, const std::string& phase,
               const json& spec_extra = json::object()) {
    json spec = {
        {"restartPolicy", "Never"},
        {"containers",
         {{{"name", rc::controllers::trainingjob::kContainerName}, {"image", "busybox"}}}}};
    spec.update(spec_extra);
    client_->create(rc::controllers::refs::pods(), "ml",
                    {{"metadata",
                      {{"name", job + "-0-abcde"},
                       {"labels", {{"job-name", job}}},
                       {"annotations", annotations}}},
                     {"spec", spec}});
    for (int i = 0; i < 200; ++i) {
      auto pod = pods_->store().get("ml/" + job + "-0-abcde");
      if (pod && (*pod).value("status", json::object()).value("phase", "") == phase) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "pod of " << job << " never reached " << phase;
  }
  static json job(const std::string& name) {
    return {{"metadata", {{"name", name}, {"namespace", "ml"}, {"uid", "uid-" + name}}}};
  }

  std::filesystem::path dir_;
  std::unique_ptr<rc::sim::Simulator> sim_;
  std::shared_ptr<rc::kube::Client> client_;
  std::shared_ptr<rc::runtime::Informer> pods_;
};

TEST_F(RunMetricsTest, AFinishedRunKeepsItsMetricsAfterTheFinalRead) {
  run_pod("curve-0",
          {{"sim.remotecode.dev/run-seconds", "0.2"},
           {"sim.remotecode.dev/log",
            "remotecode.metric loss=0.5 step=1\n"
            "remotecode.metric loss=0.25 step=2"}},
          "Succeeded");
  RunMetricsReader reader(client_, pods_, 3600s);
  auto first = reader.read_if_due("ml/curve", job("curve-0"), /*finished=*/true);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->last.at("loss"), 0.25);
  EXPECT_EQ(first->step, 2);
  // The reconcile that made this read may fail to write the status; the next one must still
  // have the metrics to write, though the log is not read again.
  client_->remove(rc::controllers::refs::pods(), "ml", "curve-0-0-abcde");
  auto again = reader.read_if_due("ml/curve", job("curve-0"), /*finished=*/true);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->last.at("loss"), 0.25);
  EXPECT_EQ(again->step, 2);
  EXPECT_FALSE(reader.final_read_pending("ml/curve"));
}

TEST_F(RunMetricsTest, AnUnreadableFinalLogIsTriedAgainThenGivenUpOn) {
  // No node matches, so the pod stays Pending and its container has no log to read.
  run_pod("stuck-0", json::object(), "Pending",
          {{"nodeSelector", {{"no-such-label", "anywhere"}}}});
  RunMetricsReader reader(client_, pods_, 3600s);
  int tries = 0;
  while (reader.final_read_pending("ml/stuck") || tries == 0) {
    EXPECT_FALSE(reader.read_if_due("ml/stuck", job("stuck-0"), /*finished=*/true).has_value());
    ASSERT_LT(++tries, 100) << "the reader never gave up";
  }
  EXPECT_GT(tries, 1) << "a failed final read is tried again";
  EXPECT_FALSE(reader.final_read_pending("ml/stuck"));
}

}  // namespace

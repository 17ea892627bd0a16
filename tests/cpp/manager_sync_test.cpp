// The manager waits for its caches off the elector's thread, so the leader keeps renewing while
// they fill; a cache that cannot sync is fatal (not ready, controllers never start).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "remotecode/runtime/manager.h"
#include "sim_fixture.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const rc::kube::ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true};
// A custom resource whose CRD was never installed: every list is a 404.
const rc::kube::ResourceRef kMissing{"example.com", "v1", "widgets", true};

class ManagerSync : public rc::testing::SimTest {
 protected:
  rc::runtime::ManagerOptions options() {
    rc::runtime::ManagerOptions mo;
    mo.metrics_bind_address = "0";
    mo.health_probe_bind_address = "0";
    mo.leader_elect = true;
    mo.leader_election.namespace_name = "default";
    mo.leader_election.lease_name = "sync-test";
    mo.leader_election.identity = "me";
    mo.leader_election.lease_duration = 6s;
    mo.leader_election.renew_deadline = 4s;
    mo.leader_election.retry_period = 1s;
    mo.on_fatal = [this](const std::string& reason) {
      std::lock_guard lk(mu_);
      fatal_ = reason;
    };
    return mo;
  }
  std::string fatal() {
    std::lock_guard lk(mu_);
    return fatal_;
  }
  std::string renew_time() {
    try {
      return admin_->get(kLeases, "default", "sync-test")["spec"].value("renewTime", "");
    } catch (const rc::kube::ApiError&) {
      return "";
    }
  }

  std::mutex mu_;
  std::string fatal_;
};

TEST_F(ManagerSync, ACacheThatCannotSyncIsFatalAndNoControllerStarts) {
  start_sim();
  auto mo = options();
  mo.cache_sync_timeout = 3s;
  rc::runtime::Manager manager(client("manager-sync-test"), mo);
  std::atomic<int> reconciles{0};
  manager.add_controller("widgets", manager.informer(kMissing), [&](const std::string&) {
    ++reconciles;
    return rc::runtime::Result::done();
  });
  manager.start();
  ASSERT_TRUE(eventually([&] { return !fatal().empty(); }, 15s)) << "the failed sync was ignored";
  EXPECT_NE(fatal().find("widgets"), std::string::npos) << fatal();
  EXPECT_NE(fatal().find("did not sync"), std::string::npos) << fatal();
  EXPECT_FALSE(manager.controllers_running());
  EXPECT_FALSE(manager.ready());
  EXPECT_FALSE(manager.wait()) << "wait() reports the failure";
  EXPECT_EQ(manager.failure(), fatal());
  manager.stop();
  EXPECT_EQ(reconciles.load(), 0);
}

TEST_F(ManagerSync, TheLeaderKeepsRenewingWhileCachesSync) {
  start_sim();
  faults({{"error500", {{"list", 1.0}}}});  // the cache cannot fill for now
  auto mo = options();
  mo.cache_sync_timeout = 60s;
  rc::runtime::Manager manager(client("manager-sync-test"), mo);
  manager.add_controller("configmaps", manager.informer(kConfigMaps),
                         [](const std::string&) { return rc::runtime::Result::done(); });
  manager.start();
  ASSERT_TRUE(eventually([&] { return !renew_time().empty(); }, 10s));
  std::string first = renew_time();
  // Longer than the renew deadline: renewals went on while the cache waited.
  std::this_thread::sleep_for(5s);
  EXPECT_NE(renew_time(), first) << "the lease was not renewed while caches synced";
  EXPECT_TRUE(manager.leading());
  EXPECT_FALSE(manager.controllers_running());
  EXPECT_TRUE(fatal().empty()) << fatal();
  faults(json::object());
  EXPECT_TRUE(eventually([&] { return manager.controllers_running(); }, 40s));
  EXPECT_TRUE(manager.ready());
  manager.stop();
}

}  // namespace

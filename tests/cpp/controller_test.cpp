// A controller on the runtime converging against `remote-code sim` while the API server fails
// 10% of requests with 500 and 5% with 429: every object gets exactly one child, the number of
// reconciles stays bounded, and once converged nothing keeps reconciling (no hot loop).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "remotecode/kube/client.h"
#include "remotecode/runtime/manager.h"
#include "remotecode/sim/simulator.h"
#include "tools/demo_controller.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const rc::kube::ResourceRef kSecrets{"", "v1", "secrets", true};

TEST(Controller, ConvergesFiveHundredObjectsUnderFaults) {
  auto dir = std::filesystem::temp_directory_path() / ("rc-ctrl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  rc::sim::SimulatorOptions so;
  so.kubeconfig_out = (dir / "kubeconfig").string();
  rc::sim::Simulator sim(so);
  sim.start();
  auto config = rc::kube::load_kubeconfig(so.kubeconfig_out);
  rc::kube::ClientOptions admin_opts;
  admin_opts.qps = 0;
  auto admin = rc::kube::Client::connect(config, admin_opts);
  admin->create({"", "v1", "namespaces", false}, "", {{"metadata", {{"name", "demo"}}}});

  rc::kube::ClientOptions co;
  co.qps = 200;
  co.burst = 400;
  co.user_agent = "controller-test";
  co.field_manager = "demo-controller";
  auto client = rc::kube::Client::connect(config, co);
  rc::runtime::ManagerOptions mo;
  mo.metrics_bind_address = "127.0.0.1:0";
  mo.health_probe_bind_address = "127.0.0.1:0";
  mo.workers = 4;
  rc::runtime::Manager manager(client, mo);
  rc::testing::add_demo_controller(manager, "demo", "test");
  manager.start();

  auto faults = [&](const json& f) {
    admin->request({"PUT", "/sim/faults", f.dump(), "application/json"}, true);
  };
  faults({{"error500", 0.10}, {"error429", 0.05}, {"retryAfterSeconds", 0}});
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    json cm = {{"metadata", {{"name", "obj-" + std::to_string(i)}, {"labels", {{"demo", "yes"}}}}},
               {"data", {{"value", std::to_string(i)}}}};
    for (int attempt = 0;; ++attempt) {
      try {
        admin->create(kConfigMaps, "demo", cm);
        break;
      } catch (const rc::kube::ApiError& e) {
        if (e.already_exists()) break;  // an injected 500 after the write happened
        ASSERT_LT(attempt, 20) << e.what();
      }
    }
  }

  // Converged: exactly one Secret per ConfigMap, owned by it, with its data.
  auto converged = [&] {
    faults(json::object());
    auto secrets = admin->list(kSecrets, "demo").items;
    rc::kube::ListOptions demo;
    demo.label_selector = "demo=yes";  // not kube-root-ca.crt, which every namespace has
    auto cms = admin->list(kConfigMaps, "demo", demo).items;
    faults({{"error500", 0.10}, {"error429", 0.05}, {"retryAfterSeconds", 0}});
    if (secrets.size() != cms.size() || static_cast<int>(cms.size()) != n) return false;
    std::map<std::string, std::string> uid_by_name;
    for (const auto& c : cms) uid_by_name[c["metadata"]["name"]] = c["metadata"]["uid"];
    for (const auto& s : secrets) {
      auto refs = s["metadata"].value("ownerReferences", json::array());
      if (refs.size() != 1 || refs[0]["uid"] != uid_by_name[s["metadata"]["name"]]) return false;
    }
    return true;
  };
  bool ok = false;
  for (int i = 0; i < 120 && !ok; ++i) {
    std::this_thread::sleep_for(500ms);
    ok = converged();
  }
  faults(json::object());
  ASSERT_TRUE(ok) << "did not converge";

  auto before = manager.metrics().render();
  int64_t settled = 0;
  std::this_thread::sleep_for(1s);
  // Count reconciles through the metrics, as an operator's user would.
  auto count = [&] {
    int64_t total = 0;
    std::istringstream in(manager.metrics().render());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("controller_runtime_reconcile_total{", 0) == 0)
        total += std::stoll(line.substr(line.rfind(' ') + 1));
    return total;
  };
  settled = count();
  std::this_thread::sleep_for(3s);
  int64_t later = count();
  std::cout << "[ figures  ] " << settled << " reconciles for " << n
            << " objects under 10% 500s and 5% 429s" << std::endl;
  EXPECT_EQ(later, settled) << "reconciles continued after convergence (a hot loop)";
  EXPECT_GE(settled, n);
  EXPECT_LT(settled, n * 4) << "reconcile count is bounded";
  EXPECT_NE(before.find("workqueue_adds_total{"), std::string::npos);
  EXPECT_NE(before.find("rest_client_requests_total{"), std::string::npos);
  EXPECT_NE(before.find("code=\"500\""), std::string::npos) << "faults were seen by the client";
  EXPECT_TRUE(manager.ready());
  manager.stop();
  sim.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace

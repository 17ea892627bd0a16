// An in-process `remote-code sim` over HTTPS for the tests of this folder: clients with a
// User-Agent of their own (faults can single one out), fault settings, and request counts.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "remotecode/kube/client.h"
#include "remotecode/sim/simulator.h"

namespace rc::testing {

class SimTest : public ::testing::Test {
 protected:
  void start_sim(int bookmark_seconds = 60) {
    dir_ = std::filesystem::temp_directory_path() /
           ("rc-simtest-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    sim::SimulatorOptions o;
    o.kubeconfig_out = (dir_ / "kubeconfig").string();
    o.bookmark_interval_seconds = bookmark_seconds;
    o.cluster.pod_start_seconds = 0.1;
    sim_ = std::make_unique<sim::Simulator>(o);
    sim_->start();
    config_ = kube::load_kubeconfig(o.kubeconfig_out);
    admin_ = client("sim-test-admin");
  }
  void TearDown() override {
    if (admin_) faults(nlohmann::json::object());  // lets held connections go
    admin_.reset();
    if (sim_) sim_->stop();
    std::filesystem::remove_all(dir_);
  }
  std::shared_ptr<kube::Client> client(const std::string& user_agent) {
    kube::ClientOptions co;
    co.qps = 0;  // these tests measure the server and the runtime, not the limiter
    co.user_agent = user_agent;
    return kube::Client::connect(config_, co);
  }
  void faults(const nlohmann::json& f) {
    admin_->request({"PUT", "/sim/faults", f.dump(), "application/json"}, true);
  }
  // Requests the server saw whose "verb resource group manager" key starts with `prefix`.
  int64_t requests(const std::string& prefix) {
    auto counts = nlohmann::json::parse(admin_->request({"GET", "/sim/requests"}, true).body);
    int64_t n = 0;
    for (auto& [key, count] : counts.items())
      if (key.rfind(prefix, 0) == 0) n += count.get<int64_t>();
    return n;
  }
  void create_namespace(const std::string& name) {
    admin_->create({"", "v1", "namespaces", false}, "", {{"metadata", {{"name", name}}}});
  }
  static bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<sim::Simulator> sim_;
  kube::ClusterConfig config_;
  std::shared_ptr<kube::Client> admin_;
};

}  // namespace rc::testing

// `remote-code dev`: the simulated cluster, the operator's controllers and (once it exists) the
// portal in one process, with the CRDs and example templates applied, for a first look without a
// cluster. Not for production: the simulator is a stand-in for a real API server.
#pragma once
#include <memory>
#include <string>

#include "remotecode/controllers/config.h"
#include "remotecode/runtime/manager.h"
#include "remotecode/sim/simulator.h"

namespace rc::dev {

struct DevOptions {
  sim::SimulatorOptions sim;
  controllers::OperatorConfig controllers;
  std::string state_dir = ".state";  // the kubeconfig is written here
  int workers = 2;
};

class Environment {
 public:
  explicit Environment(DevOptions options);
  ~Environment();
  // Starts the simulator, applies the embedded manifests, starts the controllers. Throws
  // std::runtime_error with what went wrong.
  void start();
  void stop();
  std::string kubeconfig_path() const;
  std::string api_url() const;

 private:
  void apply_embedded_manifests();

  DevOptions options_;
  std::unique_ptr<sim::Simulator> sim_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<runtime::Manager> manager_;
};

}  // namespace rc::dev

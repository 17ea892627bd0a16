// `remote-code dev`: the simulated cluster, the operator's controllers and the portal in one
// process, with the CRDs and example templates applied, for a first look without a
// cluster. Not for production: the simulator is a stand-in for a real API server.
#pragma once
#include <memory>
#include <string>

#include "remotecode/controllers/config.h"
#include "remotecode/portal/portal.h"
#include "remotecode/runtime/manager.h"
#include "remotecode/sim/simulator.h"

namespace rc::dev {

struct DevOptions {
  sim::SimulatorOptions sim;
  controllers::OperatorConfig controllers;
  portal::PortalOptions portal;  // its initial admin and datasets folder are set by start()
  // The kubeconfig, the cluster's objects (cluster.json), admin password and datasets live here.
  std::string state_dir = ".state";
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
  std::string portal_url() const;
  std::string admin_user() const { return "admin"; }
  // Generated on the first start and kept in <state-dir>/admin-password.
  std::string admin_password() const { return admin_password_; }

 private:
  void apply_embedded_manifests();
  std::string read_or_make_admin_password() const;

  DevOptions options_;
  std::unique_ptr<sim::Simulator> sim_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<runtime::Manager> manager_;
  std::unique_ptr<portal::Portal> portal_;
  std::string admin_password_;
};

}  // namespace rc::dev

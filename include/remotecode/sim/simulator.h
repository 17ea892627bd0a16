// `remote-code sim` as an object: storage, API semantics, REST front, simulated cluster and the
// HTTPS listener, wired together. The dev command and the tests embed it the same way.
#pragma once
#include <memory>
#include <string>

#include "remotecode/http/server.h"
#include "remotecode/http/tls.h"
#include "remotecode/sim/api.h"
#include "remotecode/sim/api_server.h"
#include "remotecode/sim/cluster.h"
#include "remotecode/sim/faults.h"
#include "remotecode/sim/state_file.h"

namespace rc::sim {

struct SimulatorOptions {
  std::string listen = "127.0.0.1:0";
  bool insecure_http = false;
  std::string kubeconfig_out;  // written once listening; "" writes none
  std::string pki_out;         // folder for ca.crt, client.crt and client.key; "" writes none
  std::string openapi_dir;
  std::string token;  // "" generates one
  // Where the objects outlive the process (see docs/simulator.md, "Persistence"): loaded at
  // start, saved every ~2 s while they change and on stop. "" keeps them in memory only.
  std::string state_file;
  size_t history = 10000;
  int bookmark_interval_seconds = 60;
  ClusterOptions cluster;
  FaultConfig faults;
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);
  ~Simulator();
  // Loads the state file, listens, starts the cluster and writes the kubeconfig; throws
  // std::runtime_error on failure (a state file that cannot be loaded is named and left alone).
  void start();
  // Stops serving and the cluster, then saves the state file.
  void stop();
  std::string url() const;
  const std::string& token() const { return options_.token; }
  const std::string& ca_pem() const { return ca_.cert_pem; }
  // The kubeconfig text for this server (also what --kubeconfig-out writes).
  std::string kubeconfig() const;
  Api& api() { return *api_; }

 private:
  SimulatorOptions options_;
  http::KeyPair ca_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TypeRegistry> types_;
  std::unique_ptr<StateFile> state_;
  std::unique_ptr<Api> api_;
  Faults faults_;
  PodScripts pod_scripts_;
  std::unique_ptr<ApiServer> rest_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rc::sim

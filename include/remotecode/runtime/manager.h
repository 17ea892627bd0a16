// The operator's process frame: one API client, shared informers, controllers, optional leader
// election (controllers run only on the leader; caches fill on every replica), Prometheus
// metrics on --metrics-bind-address, and /healthz and /readyz (ready once every cache has
// synced) on --health-probe-bind-address. Controllers start off the elector's thread once every
// cache has synced; a cache that cannot sync, or a lost lease, is fatal (see on_fatal).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remotecode/http/server.h"
#include "remotecode/kube/client.h"
#include "remotecode/runtime/controller.h"
#include "remotecode/runtime/informer.h"
#include "remotecode/runtime/leader_election.h"
#include "remotecode/runtime/metrics.h"

namespace rc::runtime {

struct ManagerOptions {
  std::string metrics_bind_address = ":9090";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  bool leader_elect = false;
  LeaderElectionOptions leader_election;
  int workers = 2;
  // Every cache must have synced by then after start (or after gaining the lease), as
  // controller-runtime's CacheSyncTimeout.
  std::chrono::milliseconds cache_sync_timeout{std::chrono::minutes(2)};
  // Called once, on any thread, when the process must stop acting: the lease is lost or a cache
  // cannot sync. Unset: log, flush and _Exit(1) at once, not waiting for reconciles in flight (a
  // replica without the lease must not write). Tests set it; wait() then returns false.
  std::function<void(const std::string& reason)> on_fatal;
};

class Manager {
 public:
  Manager(std::shared_ptr<kube::Client> client, ManagerOptions options);
  ~Manager();
  std::shared_ptr<kube::Client> client() const { return client_; }
  Metrics& metrics() { return *metrics_; }
  // One informer per resource and namespace, shared by every controller that asks.
  std::shared_ptr<Informer> informer(const kube::ResourceRef& ref, InformerOptions options = {});
  Controller& add_controller(const std::string& name, std::shared_ptr<Informer> primary,
                             Reconciler reconcile);
  // Starts servers and informers, then controllers (at once, or when elected).
  void start();
  // Blocks until stop() or a fatal error (returns false; see failure()).
  bool wait();
  void stop();
  bool ready() const;
  bool leading() const;
  bool controllers_running() const { return controllers_running_; }
  // Why the manager failed, or "".
  std::string failure() const;
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  int health_port() const { return health_server_ ? health_server_->port() : 0; }

 private:
  // Runs on its own thread: waits for the caches, then starts the controllers.
  void start_controllers();
  void stop_controllers();
  void fail(const std::string& reason);

  std::shared_ptr<kube::Client> client_;
  ManagerOptions options_;
  std::shared_ptr<Metrics> metrics_;
  std::map<std::string, std::shared_ptr<Informer>> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<LeaderElector> elector_;
  std::unique_ptr<http::Server> metrics_server_, health_server_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string failure_;  // under mu_
  std::thread ticker_;
  std::thread starter_;
  std::mutex stop_mu_;
  bool stopped_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<bool> controllers_started_{false};
  std::atomic<bool> controllers_running_{false};
};

}  // namespace rc::runtime

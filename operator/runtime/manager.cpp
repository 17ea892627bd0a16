#include "remotecode/runtime/manager.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace rc::runtime {

Manager::Manager(std::shared_ptr<kube::Client> client, ManagerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      metrics_(std::make_shared<Metrics>()) {
  client_->set_observer(metrics_->request_observer(client_->transport().host()));
}

Manager::~Manager() {
  stop();
}

std::shared_ptr<Informer> Manager::informer(const kube::ResourceRef& ref, InformerOptions options) {
  std::string id = ref.api_version() + "/" + ref.resource + "@" + options.namespace_name + "?" +
                   options.label_selector + "&" + options.field_selector;
  auto& slot = informers_[id];
  if (!slot) slot = std::make_shared<Informer>(client_, ref, std::move(options));
  return slot;
}

Controller& Manager::add_controller(const std::string& name, std::shared_ptr<Informer> primary,
                                    Reconciler reconcile) {
  ControllerOptions co;
  co.workers = options_.workers;
  co.metrics = metrics_;
  controllers_.push_back(
      std::make_unique<Controller>(name, std::move(primary), std::move(reconcile), co));
  return *controllers_.back();
}

bool Manager::ready() const {
  if (failed_) return false;
  for (const auto& [id, inf] : informers_)
    if (!inf->has_synced()) return false;
  return true;
}

std::string Manager::failure() const {
  std::lock_guard lk(mu_);
  return failure_;
}

void Manager::fail(const std::string& reason) {
  if (failed_.exchange(true)) return;
  {
    std::lock_guard lk(mu_);
    failure_ = reason;
    cv_.notify_all();
  }
  if (options_.on_fatal) {
    options_.on_fatal(reason);
    return;
  }
  spdlog::critical("manager: {}; exiting", reason);
  if (auto logger = spdlog::default_logger()) logger->flush();
  // Not exit(): no destructor may wait for reconciles, watches or servers.
  std::_Exit(1);
}

bool Manager::leading() const {
  return !elector_ || elector_->leading();
}

namespace {

std::unique_ptr<http::Server> serve(const std::string& address, http::Handler handler) {
  if (address.empty() || address == "0") return nullptr;
  auto [host, port] = http::parse_listen_address(address);
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  auto server = std::make_unique<http::Server>(so, std::move(handler));
  server->start();
  return server;
}

}  // namespace

void Manager::start() {
  metrics_server_ = serve(options_.metrics_bind_address, [this](http::Request& r) {
    if (r.path != "/metrics") return http::Response::text(404, "404 page not found\n");
    return http::Response::text(200, metrics_->render(),
                                "text/plain; version=0.0.4; charset=utf-8");
  });
  health_server_ = serve(options_.health_probe_bind_address, [this](http::Request& r) {
    if (r.path == "/healthz" || r.path == "/livez") return http::Response::text(200, "ok");
    if (r.path == "/readyz")
      return ready() ? http::Response::text(200, "ok")
                     : http::Response::text(503, "informers have not synced yet\n");
    return http::Response::text(404, "404 page not found\n");
  });
  for (auto& [id, inf] : informers_) inf->start();
  // workqueue_unfinished_work_seconds and _longest_running_processor_seconds, as client-go
  // refreshes them: every 500 ms.
  ticker_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return stopping_; }))
      for (auto& c : controllers_) c->queue().update_unfinished_work();
  });
  // The elector only signals: waiting for caches happens here, never on its thread, so it
  // renews while caches fill.
  auto launch = [this] {
    std::lock_guard lk(mu_);
    if (stopping_ || controllers_started_.exchange(true)) return;
    starter_ = std::thread([this] { start_controllers(); });
  };
  if (!options_.leader_elect) {
    launch();
    return;
  }
  metrics_->set_leader(options_.leader_election.lease_name, false);
  auto lease_client = leader_election_client(*client_, options_.leader_election);
  lease_client->set_observer(metrics_->request_observer(client_->transport().host()));
  elector_ = std::make_unique<LeaderElector>(lease_client, options_.leader_election);
  elector_->start(
      [this, launch] {
        metrics_->set_leader(options_.leader_election.lease_name, true);
        launch();
      },
      [this] {
        metrics_->set_leader(options_.leader_election.lease_name, false);
        bool stopping;
        {
          std::lock_guard lk(mu_);
          stopping = stopping_;
        }
        if (!stopping) fail("lost the leader lease " + options_.leader_election.lease_name);
      });
}

void Manager::start_controllers() {
  auto deadline = std::chrono::steady_clock::now() + options_.cache_sync_timeout;
  auto stopping = [this] {
    std::lock_guard lk(mu_);
    return stopping_;
  };
  for (auto& [id, inf] : informers_) {
    // In slices, so that stop() is not held up by a cache that will never sync.
    while (!inf->has_synced() && !stopping() && std::chrono::steady_clock::now() < deadline)
      inf->wait_for_sync(std::chrono::milliseconds(200));
    if (stopping()) return;
    if (!inf->has_synced()) {
      std::string why = inf->last_error();
      fail("the cache of " + inf->ref().resource + " did not sync within " +
           std::to_string(options_.cache_sync_timeout.count() / 1000) + " s" +
           (why.empty() ? "" : ": " + why));
      return;
    }
  }
  {
    // Under the lock that stop() takes first, so controllers never start after stop began.
    std::lock_guard lk(mu_);
    if (stopping_) return;
    controllers_running_ = true;
    for (auto& c : controllers_) c->start();
  }
  spdlog::info("manager: {} controller(s) running", controllers_.size());
}

void Manager::stop_controllers() {
  if (!controllers_running_.exchange(false)) return;
  for (auto& c : controllers_) c->stop();
}

bool Manager::wait() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [this] { return stopping_ || failed_; });
  return !failed_;
}

void Manager::stop() {
  // Callable from several threads (a signal waiter and the main thread): one does the work,
  // the others wait for it.
  std::lock_guard once(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  if (starter_.joinable()) starter_.join();
  stop_controllers();
  if (elector_) elector_->stop();  // releases the lease so a successor starts at once
  // Each watch notices within about a second (curl's progress callback): ask them all first,
  // so the process waits once, not once per informer.
  for (auto& [id, inf] : informers_) inf->request_stop();
  for (auto& [id, inf] : informers_) inf->stop();
  for (auto& [id, inf] : informers_) inf->clear_handlers();
  if (metrics_server_) metrics_server_->stop();
  if (health_server_) health_server_->stop();
}

}  // namespace rc::runtime

#include "remotecode/runtime/manager.h"

#include <spdlog/spdlog.h>

namespace rc::runtime {

Manager::Manager(std::shared_ptr<kube::Client> client, ManagerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      metrics_(std::make_shared<Metrics>()) {
  client_->set_observer(metrics_->request_observer());
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
  for (const auto& [id, inf] : informers_)
    if (!inf->has_synced()) return false;
  return true;
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
  if (!options_.leader_elect) {
    start_controllers();
    return;
  }
  metrics_->set_leader(options_.leader_election.lease_name, false);
  elector_ = std::make_unique<LeaderElector>(client_, options_.leader_election);
  elector_->start(
      [this] {
        metrics_->set_leader(options_.leader_election.lease_name, true);
        start_controllers();
      },
      [this] {
        metrics_->set_leader(options_.leader_election.lease_name, false);
        std::lock_guard lk(mu_);
        lost_leadership_ = true;
        cv_.notify_all();
      });
}

void Manager::start_controllers() {
  if (controllers_running_.exchange(true)) return;
  for (auto& [id, inf] : informers_) inf->wait_for_sync(std::chrono::seconds(60));
  for (auto& c : controllers_) c->start();
  spdlog::info("manager: {} controller(s) running", controllers_.size());
}

void Manager::stop_controllers() {
  if (!controllers_running_.exchange(false)) return;
  for (auto& c : controllers_) c->stop();
}

bool Manager::wait() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [this] { return stopping_ || lost_leadership_; });
  return !lost_leadership_;
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

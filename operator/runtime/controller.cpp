#include "remotecode/runtime/controller.h"

#include <spdlog/spdlog.h>

#include "remotecode/kube/api_error.h"

namespace rc::runtime {

using nlohmann::json;

std::string controller_owner_key(const json& obj, const std::string& kind) {
  const auto& md = obj.at("metadata");
  for (const auto& r : md.value("ownerReferences", json::array())) {
    if (!r.value("controller", false) || r.value("kind", "") != kind) continue;
    std::string ns = md.value("namespace", "");
    return ns.empty() ? r.value("name", "") : ns + "/" + r.value("name", "");
  }
  return "";
}

Controller::Controller(std::string name, std::shared_ptr<Informer> primary, Reconciler reconcile,
                       ControllerOptions options)
    : name_(std::move(name)),
      primary_(std::move(primary)),
      reconcile_(std::move(reconcile)),
      options_(std::move(options)) {
  WorkQueueOptions qo;
  if (options_.metrics) qo.observer = options_.metrics->queue_observer(name_);
  queue_ = std::make_unique<WorkQueue>(qo);
  auto enqueue = [this](const ObjectPtr& o) { queue_->add(object_key(*o)); };
  primary_->add_handlers(
      {enqueue, [enqueue](const ObjectPtr&, const ObjectPtr& n) { enqueue(n); }, enqueue});
}

Controller::~Controller() {
  stop();
}

Controller& Controller::owns(const std::shared_ptr<Informer>& child,
                             const std::string& owner_kind) {
  auto enqueue_owner = [this, owner_kind](const ObjectPtr& o) {
    std::string key = controller_owner_key(*o, owner_kind);
    if (!key.empty()) queue_->add(key);
  };
  child->add_handlers({enqueue_owner,
                       [enqueue_owner](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
                         enqueue_owner(old_obj);
                         enqueue_owner(new_obj);
                       },
                       enqueue_owner});
  return *this;
}

Controller& Controller::watches(const std::shared_ptr<Informer>& source,
                                std::function<std::vector<std::string>(const ObjectPtr&)> map) {
  auto enqueue = [this, map](const ObjectPtr& o) {
    for (const auto& k : map(o)) queue_->add(k);
  };
  source->add_handlers(
      {enqueue, [enqueue](const ObjectPtr&, const ObjectPtr& n) { enqueue(n); }, enqueue});
  return *this;
}

void Controller::start() {
  if (running_.exchange(true)) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    workers_.emplace_back([this] { worker(); });
}

void Controller::stop() {
  if (!running_.exchange(false)) return;
  queue_->shutdown();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

void Controller::worker() {
  while (auto key = queue_->get()) {
    auto started = std::chrono::steady_clock::now();
    std::string result;
    try {
      Result r = reconcile_(*key);
      queue_->forget(*key);
      if (r.requeue_after.count() > 0) {
        queue_->add_after(*key, r.requeue_after);
        result = "requeue_after";
      } else {
        result = "success";
      }
    } catch (const kube::ApiError& e) {
      // A write against a stale cache: expected now and then, retried with the fresh object.
      if (e.conflict())
        spdlog::debug("controller {}: reconcile {} conflicted, retrying: {}", name_, *key,
                      e.what());
      else
        spdlog::warn("controller {}: reconcile {} failed: {}", name_, *key, e.what());
      queue_->add_rate_limited(*key);
      result = "error";
      if (options_.metrics) options_.metrics->reconcile_error(name_);
    } catch (const CacheBehind& e) {
      spdlog::debug("controller {}: reconcile {}: {}", name_, *key, e.what());
      queue_->add_rate_limited(*key);
      result = "error";
    } catch (const std::exception& e) {
      spdlog::warn("controller {}: reconcile {} failed: {}", name_, *key, e.what());
      queue_->add_rate_limited(*key);
      result = "error";
      if (options_.metrics) options_.metrics->reconcile_error(name_);
    } catch (...) {
      spdlog::error("controller {}: reconcile {} threw a non-exception", name_, *key);
      queue_->add_rate_limited(*key);
      result = "error";
    }
    ++reconciles_;
    if (options_.metrics)
      options_.metrics->reconcile(
          name_, result,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    queue_->done(*key);
  }
}

}  // namespace rc::runtime

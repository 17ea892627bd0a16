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

bool is_terminal(const std::exception& e) {
  if (dynamic_cast<const TerminalError*>(&e)) return true;
  if (const auto* api = dynamic_cast<const kube::ApiError*>(&e)) {
    // A 403 for an exceeded ResourceQuota, or a namespace being deleted, passes by itself: it
    // is retried with backoff like any transient error.
    const std::string message = api->status().value("message", "");
    if (api->code() == 403 && (message.find("exceeded quota") != std::string::npos ||
                               message.find("is being terminated") != std::string::npos))
      return false;
    return api->code() == 400 || api->code() == 403 || api->code() == 422;
  }
  return false;
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

Controller& Controller::on_terminal_error(TerminalErrorHandler handler) {
  on_terminal_ = std::move(handler);
  return *this;
}

void Controller::report_terminal(const std::string& key, const std::string& reason,
                                 const std::string& message) {
  spdlog::warn("controller {}: reconcile {} failed and will not be retried until it changes: {}",
               name_, key, message);
  if (!on_terminal_) return;
  try {
    on_terminal_(primary_->store().get(key), reason, message);
  } catch (const std::exception& e) {
    spdlog::warn("controller {}: could not report the error of {}: {}", name_, key, e.what());
  } catch (...) {
    spdlog::warn("controller {}: could not report the error of {}", name_, key);
  }
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
    std::string result = "error";
    // Every failure counts in controller_runtime_reconcile_errors_total, as in controller-runtime.
    auto retry = [&] {
      queue_->add_rate_limited(*key);
      if (options_.metrics) options_.metrics->reconcile_error(name_);
    };
    auto terminal = [&](const std::string& reason, const std::string& message) {
      // Forgotten, not requeued: the next event of the object (or of its children) tries again.
      queue_->forget(*key);
      if (options_.metrics) {
        options_.metrics->reconcile_error(name_);
        options_.metrics->terminal_reconcile_error(name_);
      }
      report_terminal(*key, reason, message);
    };
    try {
      Result r = reconcile_(*key);
      queue_->forget(*key);
      if (r.requeue_after.count() > 0) {
        queue_->add_after(*key, r.requeue_after);
        result = "requeue_after";
      } else {
        result = "success";
      }
    } catch (const CacheBehind& e) {
      // Expected now and then: debug, not a warning, but an error all the same.
      spdlog::debug("controller {}: reconcile {}: {}", name_, *key, e.what());
      retry();
    } catch (const TerminalError& e) {
      terminal(e.reason, e.what());
    } catch (const kube::ApiError& e) {
      if (is_terminal(e)) {
        terminal(e.reason().empty() ? "ApiError" : e.reason(), e.what());
      } else {
        // A write against a stale cache: expected now and then, retried with the fresh object.
        if (e.conflict())
          spdlog::debug("controller {}: reconcile {} conflicted, retrying: {}", name_, *key,
                        e.what());
        else
          spdlog::warn("controller {}: reconcile {} failed: {}", name_, *key, e.what());
        retry();
      }
    } catch (const std::exception& e) {
      spdlog::warn("controller {}: reconcile {} failed: {}", name_, *key, e.what());
      retry();
    } catch (...) {
      spdlog::error("controller {}: reconcile {} threw a non-exception", name_, *key);
      retry();
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

// A controller: a primary informer (For), child informers whose events map to their owner's
// key (Owns), a work queue, and N workers calling a reconcile function that returns done,
// requeue-after, or throws: retried with per-key backoff, except terminal errors (TerminalError,
// or the API refusing a write as forbidden, invalid or malformed), which are reported and wait
// for the next change. The same key is never reconciled by two workers at once; an exception
// never escapes a worker.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "remotecode/runtime/informer.h"
#include "remotecode/runtime/metrics.h"
#include "remotecode/runtime/work_queue.h"

namespace rc::runtime {

struct Result {
  std::chrono::milliseconds requeue_after{0};  // 0: wait for the next change
  static Result done() { return {}; }
  static Result after(std::chrono::milliseconds d) { return {d}; }
};

// Thrown by a reconcile that found its cache behind the API server (an object it must not
// overwrite exists but is not cached yet): retried with backoff like any error, but expected
// in normal operation, so logged at debug rather than as a warning.
struct CacheBehind : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown by a reconcile that cannot succeed until its object changes (a spec that can never
// work, as controller-runtime's reconcile.TerminalError): not retried, reported to the
// controller's terminal-error hook and counted in controller_runtime_terminal_reconcile_errors.
struct TerminalError : std::runtime_error {
  TerminalError(std::string reason, const std::string& message)
      : std::runtime_error(message), reason(std::move(reason)) {}
  std::string reason;  // CamelCase, for a condition or an Event
};

// Reconciles "namespace/name" (or "name"); throw to retry with backoff.
using Reconciler = std::function<Result(const std::string& key)>;

// Told about a terminal error so it can be recorded where a person sees it (an Event, a status
// condition). `object` is the cached primary (null when it is gone). Runs on a worker; may call
// the API; what it throws is logged.
using TerminalErrorHandler = std::function<void(const ObjectPtr& object, const std::string& reason,
                                                const std::string& message)>;

// True for errors that retrying cannot fix: TerminalError, and ApiErrors 400, 403 and 422 (the
// request itself was refused, so the same request will be refused again).
bool is_terminal(const std::exception& e);

struct ControllerOptions {
  int workers = 2;
  std::shared_ptr<Metrics> metrics;  // optional
};

class Controller {
 public:
  Controller(std::string name, std::shared_ptr<Informer> primary, Reconciler reconcile,
             ControllerOptions options = {});
  ~Controller();
  // Child events enqueue the key of their controlling owner of `owner_kind`.
  Controller& owns(const std::shared_ptr<Informer>& child, const std::string& owner_kind);
  // Events of `source` enqueue the keys `map` returns.
  Controller& watches(const std::shared_ptr<Informer>& source,
                      std::function<std::vector<std::string>(const ObjectPtr&)> map);
  // Called for every terminal error (set before start()).
  Controller& on_terminal_error(TerminalErrorHandler handler);
  // Starts the workers (informers are started by their owner).
  void start();
  void stop();
  WorkQueue& queue() { return *queue_; }
  const std::string& name() const { return name_; }
  int64_t reconciles() const { return reconciles_; }

 private:
  void worker();
  void report_terminal(const std::string& key, const std::string& reason,
                       const std::string& message);

  std::string name_;
  std::shared_ptr<Informer> primary_;
  Reconciler reconcile_;
  TerminalErrorHandler on_terminal_;
  ControllerOptions options_;
  std::unique_ptr<WorkQueue> queue_;
  std::vector<std::thread> workers_;
  std::atomic<int64_t> reconciles_{0};
  std::atomic<bool> running_{false};
};

// The key of the controlling owner of `kind` ("namespace/name"), or "" when there is none.
std::string controller_owner_key(const nlohmann::json& obj, const std::string& kind);

}  // namespace rc::runtime

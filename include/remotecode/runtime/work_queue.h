// The controller work queue: keys ("namespace/name") wait here between an event and a reconcile.
// client-go's workqueue rules: dedup, one worker per key, delayed adds, rate-limited retries.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "remotecode/runtime/rate_limiter.h"

namespace rc::runtime {

// Metrics hooks, named after the series controller-runtime users chart. The queue calls them with
// its lock held, so each change is reported in order: they must be quick, must not throw and must
// not call back into the queue. The defaults do nothing.
class QueueObserver {
 public:
  virtual ~QueueObserver() = default;
  // workqueue_adds_total: a key became dirty (an add that dedup did not swallow).
  virtual void on_add(const std::string& /*key*/) noexcept {}
  // workqueue_depth: keys waiting to be handed out, including those re-added while processing.
  virtual void on_depth(std::size_t /*depth*/) noexcept {}
  // workqueue_retries_total: add_after() and add_rate_limited() (as client-go counts AddAfter).
  virtual void on_retry(const std::string& /*key*/) noexcept {}
  // workqueue_queue_duration_seconds: from the add that made the key dirty to get().
  virtual void on_queue_duration(const std::string& /*key*/, double /*seconds*/) noexcept {}
  // workqueue_work_duration_seconds: from get() to done().
  virtual void on_work_duration(const std::string& /*key*/, double /*seconds*/) noexcept {}
  // workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds, reported
  // when the owner calls WorkQueue::update_unfinished_work() (client-go: every 500 ms).
  virtual void on_unfinished_work(double /*unfinished_seconds*/,
                                  double /*longest_seconds*/) noexcept {}
};

struct WorkQueueOptions {
  Clock clock{};                                // default: real_clock()
  std::shared_ptr<RateLimiter> rate_limiter{};  // default: DefaultControllerRateLimiter(clock)
  std::shared_ptr<QueueObserver> observer{};    // default: does nothing
};

// Thread-safe. A worker loops: get(), reconcile, then forget() on success or add_rate_limited()
// on failure, and always done(). Destroy the queue only after its workers have returned.
class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  ~WorkQueue();  // shuts down and joins the delay thread
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued; a key being processed is queued again at done().
  void add(const std::string& key);
  // add() once `delay` has passed; of several pending delays for one key the earliest wins.
  void add_after(const std::string& key, Duration delay);
  // add_after() with the rate limiter's delay; counts one more failure of `key`.
  void add_rate_limited(const std::string& key);
  // Resets the failures of `key` in the rate limiter (it does not replace done()).
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks for a key and marks it processing until done(). After shutdown it still hands out the
  // keys already queued, then returns nullopt.
  std::optional<std::string> get();
  void done(const std::string& key);

  // Accepts no new keys, drops the delayed ones and wakes every get(). Idempotent.
  void shutdown();
  // shutdown(), then waits until every key handed out has been done() (or shutdown() is called).
  void shutdown_with_drain();
  bool shutting_down() const;

  // Keys ready to be handed out (delayed keys that are due count as ready).
  std::size_t len();
  // Keys waiting for their delay.
  std::size_t num_waiting() const;
  // Reports the age of the work in progress to the observer.
  void update_unfinished_work();

 private:
  void add_locked(const std::string& key, SteadyTime now);
  void promote_due_locked();
  void delay_loop();

  Clock clock_;
  std::shared_ptr<RateLimiter> limiter_;
  std::shared_ptr<QueueObserver> observer_;

  mutable std::mutex mu_;
  std::condition_variable getters_;  // a key was queued, or shutdown
  std::condition_variable drained_;  // processing became empty, or shutdown() ended the drain
  std::condition_variable delay_;    // a delayed key arrived, or shutdown

  std::deque<std::string> queue_;          // order of hand-out; each is dirty, none processing
  std::unordered_set<std::string> dirty_;  // every key that needs processing
  std::unordered_map<std::string, SteadyTime> processing_;  // key -> when get() handed it out
  std::unordered_map<std::string, SteadyTime> added_at_;    // key -> when it became dirty
  std::multimap<SteadyTime, std::string> waiting_;          // delayed keys, earliest first
  std::unordered_map<std::string, std::multimap<SteadyTime, std::string>::iterator> waiting_by_key_;
  bool shutting_down_ = false;
  bool drain_ = false;
  std::thread delay_thread_;  // started by the first delayed add
};

}  // namespace rc::runtime

#include "remotecode/runtime/work_queue.h"

#include <algorithm>
#include <utility>

namespace rc::runtime {

namespace {

// The delay thread re-checks at least this often: insurance against a clock that does not move
// with real time (a fake clock in tests), as client-go's heartbeat.
constexpr Duration kMaxWait = std::chrono::seconds(10);

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// now + delay, saturating instead of overflowing for absurd delays.
SteadyTime deadline(SteadyTime now, Duration delay) {
  if (delay > SteadyTime::max() - now) return SteadyTime::max();
  return now + delay;
}

}  // namespace

WorkQueue::WorkQueue(WorkQueueOptions options)
    : clock_(options.clock ? std::move(options.clock) : real_clock()),
      limiter_(options.rate_limiter ? std::move(options.rate_limiter)
                                    : std::make_shared<DefaultControllerRateLimiter>(clock_)),
      observer_(options.observer ? std::move(options.observer)
                                 : std::make_shared<QueueObserver>()) {}

WorkQueue::~WorkQueue() {
  shutdown();
  if (delay_thread_.joinable()) delay_thread_.join();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key, clock_());
}

void WorkQueue::add_locked(const std::string& key, SteadyTime now) {
  if (shutting_down_ || dirty_.contains(key)) return;
  observer_->on_add(key);
  added_at_.try_emplace(key, now);
  dirty_.insert(key);
  observer_->on_depth(dirty_.size());
  // A key in processing is queued again by done(), never handed to a second worker.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  getters_.notify_one();
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  observer_->on_retry(key);
  SteadyTime now = clock_();
  if (delay <= Duration::zero()) {
    add_locked(key, now);
    return;
  }
  SteadyTime ready = deadline(now, delay);
  if (auto known = waiting_by_key_.find(key); known != waiting_by_key_.end()) {
    if (known->second->first <= ready) return;  // the earlier add stands
    waiting_.erase(known->second);
    known->second = waiting_.emplace(ready, key);
  } else {
    waiting_by_key_.emplace(key, waiting_.emplace(ready, key));
  }
  if (!delay_thread_.joinable()) delay_thread_ = std::thread([this] { delay_loop(); });
  delay_.notify_one();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  // Asked even when shutting down, as client-go does: the failure still counts.
  add_after(key, limiter_->when(key));
}

void WorkQueue::forget(const std::string& key) {
  limiter_->forget(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  return limiter_->num_requeues(key);
}

void WorkQueue::promote_due_locked() {
  if (waiting_.empty()) return;
  SteadyTime now = clock_();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto first = waiting_.begin();
    std::string key = std::move(first->second);
    waiting_by_key_.erase(key);
    waiting_.erase(first);
    add_locked(key, now);
  }
}

void WorkQueue::delay_loop() {
  std::unique_lock lock(mu_);
  while (!shutting_down_) {
    promote_due_locked();
    if (waiting_.empty()) {
      delay_.wait(lock);
    } else {
      Duration left = waiting_.begin()->first - clock_();
      delay_.wait_for(lock, std::min(left, kMaxWait));
    }
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Due keys are promoted here too, so a getter never waits on the delay thread's timing.
    promote_due_locked();
    if (!queue_.empty()) break;
    if (shutting_down_) return std::nullopt;
    getters_.wait(lock);
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  SteadyTime now = clock_();
  if (auto added = added_at_.find(key); added != added_at_.end()) {
    observer_->on_queue_duration(key, seconds_between(added->second, now));
    added_at_.erase(added);
  }
  processing_.insert_or_assign(key, now);
  dirty_.erase(key);
  observer_->on_depth(dirty_.size());
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = processing_.find(key);
  if (it == processing_.end()) return;  // not handed out: queuing it again would duplicate it
  observer_->on_work_duration(key, seconds_between(it->second, clock_()));
  processing_.erase(it);
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    getters_.notify_one();
  }
  if (processing_.empty()) drained_.notify_all();
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  drain_ = false;
  waiting_.clear();
  waiting_by_key_.clear();
  getters_.notify_all();
  drained_.notify_all();
  delay_.notify_all();
}

void WorkQueue::shutdown_with_drain() {
  std::unique_lock lock(mu_);
  shutting_down_ = true;
  drain_ = true;
  waiting_.clear();
  waiting_by_key_.clear();
  getters_.notify_all();
  delay_.notify_all();
  drained_.wait(lock, [this] { return processing_.empty() || !drain_; });
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::len() {
  std::lock_guard lock(mu_);
  promote_due_locked();
  return queue_.size();
}

std::size_t WorkQueue::num_waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void WorkQueue::update_unfinished_work() {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  SteadyTime now = clock_();
  double total = 0;
  double longest = 0;
  for (const auto& [key, started] : processing_) {
    double age = seconds_between(started, now);
    total += age;
    longest = std::max(longest, age);
  }
  observer_->on_unfinished_work(total, longest);
}

}  // namespace rc::runtime

#include "remotecode/portal/events_hub.h"

namespace rc::portal {

namespace {
// A stream that stops reading must not hold unbounded memory; pages re-read on reconnect.
constexpr size_t kMaxPending = 10000;
}  // namespace

std::deque<Change> EventsHub::Subscription::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, timeout, [&] { return closed_ || !pending_.empty(); });
  std::deque<Change> out;
  out.swap(pending_);
  return out;
}

bool EventsHub::Subscription::closed() const {
  std::lock_guard lk(mu_);
  return closed_;
}

std::shared_ptr<EventsHub::Subscription> EventsHub::subscribe() {
  auto s = std::make_shared<Subscription>();
  std::lock_guard lk(mu_);
  subs_.insert(s);
  return s;
}

void EventsHub::unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard lk(mu_);
  subs_.erase(s);
}

void EventsHub::publish(const Change& change) {
  std::lock_guard lk(mu_);
  for (const auto& s : subs_) {
    std::lock_guard slk(s->mu_);
    if (s->pending_.size() >= kMaxPending) s->pending_.pop_front();
    s->pending_.push_back(change);
    s->cv_.notify_one();
  }
}

void EventsHub::close_all() {
  std::lock_guard lk(mu_);
  for (const auto& s : subs_) {
    std::lock_guard slk(s->mu_);
    s->closed_ = true;
    s->cv_.notify_all();
  }
}

size_t EventsHub::subscribers() const {
  std::lock_guard lk(mu_);
  return subs_.size();
}

}  // namespace rc::portal

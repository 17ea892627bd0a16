// Sliding-window limiter for failed sign-ins, keyed by user and by client address so that
// neither guessing one user's password from many places nor many users' from one place works.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "remotecode/portal/auth.h"

namespace rc::portal {
namespace {

// Past this many tracked keys, failures also sweep out keys whose failures all left the window,
// so a spray of distinct user names cannot grow the map without bound.
constexpr size_t kSweepThreshold = 10000;
// Failures kept past max_failures: enough for the delay of a user to reach its cap.
constexpr size_t kExtraFailuresKept = 4;
constexpr auto kMaxUserDelay = std::chrono::seconds(16);

using Clock = LoginLimiter::Clock;
using Failures = std::vector<Clock::time_point>;

void prune(Failures& v, Clock::time_point now, std::chrono::seconds window) {
  v.erase(
      std::remove_if(v.begin(), v.end(), [&](Clock::time_point t) { return t + window <= now; }),
      v.end());
}

// Seconds until fewer than `max` failures remain in the window, rounded up.
int64_t wait_for(const Failures& v, int max, Clock::time_point now, std::chrono::seconds window) {
  if (v.size() < static_cast<size_t>(max)) return 0;
  // v is in time order; once v[size - max] leaves, only max - 1 remain.
  auto left = v[v.size() - static_cast<size_t>(max)] + window - now;
  if (left <= Clock::duration::zero()) return 0;
  return std::chrono::ceil<std::chrono::seconds>(left).count();
}

}  // namespace

// max_failures <= 0 or a non-positive window turns the limiter off.
LoginLimiter::LoginLimiter(int max_failures, std::chrono::seconds window)
    : max_failures_(max_failures), window_(window) {}

const std::vector<Clock::time_point>* LoginLimiter::recent(const std::string& key,
                                                           Clock::time_point now) {
  // An empty user or address carries no identity; counting it would lump strangers together.
  if (key.size() == 2) return nullptr;
  auto it = failures_.find(key);
  if (it == failures_.end()) return nullptr;
  prune(it->second, now, window_);
  if (it->second.empty()) {
    failures_.erase(it);
    return nullptr;
  }
  return &it->second;
}

int64_t LoginLimiter::retry_after(const std::string& user, const std::string& address,
                                  Clock::time_point now) {
  if (max_failures_ <= 0 || window_.count() <= 0) return 0;
  std::lock_guard lock(mu_);
  int64_t wait = 0;
  for (const std::string& key : {"u:" + user, "a:" + address})
    if (const auto* v = recent(key, now))
      wait = std::max(wait, wait_for(*v, max_failures_, now, window_));
  return wait;
}

int64_t LoginLimiter::address_retry_after(const std::string& address, Clock::time_point now) {
  if (max_failures_ <= 0 || window_.count() <= 0) return 0;
  std::lock_guard lock(mu_);
  const auto* v = recent("a:" + address, now);
  return v ? wait_for(*v, max_failures_, now, window_) : 0;
}

Clock::duration LoginLimiter::user_delay(const std::string& user, Clock::time_point now) {
  if (max_failures_ <= 0 || window_.count() <= 0) return Clock::duration::zero();
  std::lock_guard lock(mu_);
  const auto* v = recent("u:" + user, now);
  if (!v || v->size() < static_cast<size_t>(max_failures_)) return Clock::duration::zero();
  const size_t doublings = std::min<size_t>(v->size() - max_failures_, 4);
  return std::min<Clock::duration>(std::chrono::seconds(1) * (1 << doublings), kMaxUserDelay);
}

void LoginLimiter::record_failure(const std::string& user, const std::string& address,
                                  Clock::time_point now) {
  if (max_failures_ <= 0 || window_.count() <= 0) return;
  std::lock_guard lock(mu_);
  // At most one sweep per window, so its cost is shared by the failures that filled the map.
  if (failures_.size() > kSweepThreshold && now >= next_sweep_) {
    next_sweep_ = now + window_;
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, now, window_);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  for (const std::string& key : {"u:" + user, "a:" + address}) {
    if (key.size() == 2) continue;
    Failures& v = failures_[key];
    prune(v, now, window_);
    // Keep time order even if callers pass time points out of order.
    v.insert(std::upper_bound(v.begin(), v.end(), now), now);
    // Only the newest max_failures decide when the key is allowed again (and a few more how
    // long a user's attempts are delayed).
    const size_t keep = static_cast<size_t>(max_failures_) + kExtraFailuresKept;
    if (v.size() > keep) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(keep));
  }
}

void LoginLimiter::record_success(const std::string& user) {
  std::lock_guard lock(mu_);
  failures_.erase("u:" + user);
}

}  // namespace rc::portal

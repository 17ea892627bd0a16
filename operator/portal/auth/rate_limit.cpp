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

int64_t LoginLimiter::retry_after(const std::string& user, const std::string& address,
                                  Clock::time_point now) {
  if (max_failures_ <= 0 || window_.count() <= 0) return 0;
  std::lock_guard lock(mu_);
  int64_t wait = 0;
  // An empty user or address carries no identity; counting it would lump strangers together.
  for (const std::string& key : {"u:" + user, "a:" + address}) {
    if (key.size() == 2) continue;
    auto it = failures_.find(key);
    if (it == failures_.end()) continue;
    prune(it->second, now, window_);
    if (it->second.empty()) {
      failures_.erase(it);
      continue;
    }
    wait = std::max(wait, wait_for(it->second, max_failures_, now, window_));
  }
  return wait;
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
    // Only the newest max_failures decide when the key is allowed again.
    if (v.size() > static_cast<size_t>(max_failures_)) v.erase(v.begin(), v.end() - max_failures_);
  }
}

void LoginLimiter::record_success(const std::string& user) {
  std::lock_guard lock(mu_);
  failures_.erase("u:" + user);
}

}  // namespace rc::portal

#include "remotecode/runtime/rate_limiter.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

namespace rc::runtime {

Clock real_clock() {
  return [] { return std::chrono::steady_clock::now(); };
}

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration base_delay,
                                                                     Duration max_delay)
    : base_(base_delay), max_(max_delay) {}

Duration ItemExponentialFailureRateLimiter::when(const std::string& key) {
  int exp = 0;
  {
    std::lock_guard lock(mu_);
    int& failures = failures_[key];
    exp = failures;
    if (failures < INT_MAX) ++failures;
  }
  // In floating point, so that 2^exp can never overflow before the cap applies.
  double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (!(backoff < static_cast<double>(max_.count()))) return max_;
  return Duration(static_cast<Duration::rep>(backoff));
}

void ItemExponentialFailureRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::num_requeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, Clock clock)
    : qps_(qps), burst_(burst), clock_(clock ? std::move(clock) : real_clock()) {
  if (!(qps > 0) || !std::isfinite(qps)) throw std::invalid_argument("bucket qps must be > 0");
  if (burst < 1) throw std::invalid_argument("bucket burst must be >= 1");
  tokens_ = burst_;
  last_ = clock_();
}

Duration BucketRateLimiter::when(const std::string&) {
  std::lock_guard lock(mu_);
  SteadyTime now = clock_();     // read under the lock, so callers see time move forward in turn
  if (now < last_) last_ = now;  // a clock that stepped back refills nothing
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::shared_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::when(const std::string& key) {
  Duration longest = Duration::zero();
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->forget(key);
}

int MaxOfRateLimiter::num_requeues(const std::string& key) const {
  int most = 0;
  for (auto& limiter : limiters_) most = std::max(most, limiter->num_requeues(key));
  return most;
}

DefaultControllerRateLimiter::DefaultControllerRateLimiter(Clock clock)
    : MaxOfRateLimiter({std::make_shared<ItemExponentialFailureRateLimiter>(kBaseDelay, kMaxDelay),
                        std::make_shared<BucketRateLimiter>(kQps, kBurst, std::move(clock))}) {}

}  // namespace rc::runtime

// How long a key should wait before it is retried: per-key exponential backoff, an overall token
// bucket, and the max of both, with the semantics (and defaults) of client-go's workqueue.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace rc::runtime {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;
// Injectable so that tests can move time by hand; must be safe to call from any thread.
using Clock = std::function<SteadyTime()>;
Clock real_clock();

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` should wait now; counts as one more failure of `key`.
  virtual Duration when(const std::string& key) = 0;
  // The key succeeded (or was given up on): stop tracking it.
  virtual void forget(const std::string& key) = 0;
  virtual int num_requeues(const std::string& key) const = 0;
};

// base * 2^failures, capped at max_delay. Failures count per key until forget().
class ItemExponentialFailureRateLimiter : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(Duration base_delay, Duration max_delay);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) const override;

 private:
  Duration base_;
  Duration max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// A token bucket shared by all keys (golang.org/x/time/rate's Reserve().Delay()): starts full
// with `burst` tokens, refills at `qps`; each when() takes a token, going into debt if none is
// left, and returns the time until that debt is paid. Throws std::invalid_argument unless
// qps > 0 and burst >= 1.
class BucketRateLimiter : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, Clock clock = real_clock());
  Duration when(const std::string& key) override;
  void forget(const std::string&) override {}
  int num_requeues(const std::string&) const override { return 0; }

 private:
  double qps_;
  double burst_;
  Clock clock_;
  std::mutex mu_;
  double tokens_;
  SteadyTime last_;
};

// Asks every limiter (so each one records the attempt) and returns the longest wait.
class MaxOfRateLimiter : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::shared_ptr<RateLimiter>> limiters);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) const override;

 private:
  std::vector<std::shared_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max(5ms * 2^failures capped at 1000s, a 10 qps
// bucket of 100). The bucket only paces retries overall; it does not limit plain add().
class DefaultControllerRateLimiter : public MaxOfRateLimiter {
 public:
  static constexpr Duration kBaseDelay = std::chrono::milliseconds(5);
  static constexpr Duration kMaxDelay = std::chrono::seconds(1000);
  static constexpr double kQps = 10;
  static constexpr int kBurst = 100;
  explicit DefaultControllerRateLimiter(Clock clock = real_clock());
};

}  // namespace rc::runtime

// The work queue keeps client-go's rules: dedup, one worker per key, re-queue on done(), delayed
// adds where the earliest wins, 5ms*2^n backoff capped at 1000s, a 10 qps/100 bucket, shutdown
// that wakes every getter, and the metrics hooks. Time is a fake clock unless a thread must wake.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "remotecode/runtime/rate_limiter.h"
#include "remotecode/runtime/work_queue.h"

namespace rc::runtime {
namespace {

using namespace std::chrono_literals;

// Moves only when told to. Safe to read from the queue's delay thread.
class FakeClock {
 public:
  SteadyTime now() const { return SteadyTime(Duration(ns_.load())); }
  void advance(Duration d) { ns_ += d.count(); }
  Clock fn() {
    return [this] { return now(); };
  }

 private:
  std::atomic<Duration::rep> ns_{Duration(1000s).count()};
};

// Long enough for a thread to block on a busy two-core machine; only bounds a failure.
constexpr auto kPatience = 10s;

template <typename T>
bool ready_within(std::future<T>& f, std::chrono::milliseconds d) {
  return f.wait_for(d) == std::future_status::ready;
}

// get() for single-threaded tests: fails instead of blocking forever when nothing is queued.
std::string next(WorkQueue& q) {
  if (q.len() == 0) {
    ADD_FAILURE() << "nothing queued";
    return "<nothing>";
  }
  return q.get().value_or("<nullopt>");
}

// When shutdown itself is broken nothing can release a blocked getter: end the run loudly
// instead of hanging it.
std::optional<std::string> await_or_exit(std::future<std::optional<std::string>>& f) {
  if (!ready_within(f, kPatience)) {
    std::fprintf(stderr, "FAILED: a get() still blocks %llds after shutdown\n",
                 static_cast<long long>(kPatience.count()));
    std::_Exit(1);
  }
  return f.get();
}

std::optional<std::string> get_after_shutdown(WorkQueue& q) {
  auto f = std::async(std::launch::async, [&] { return q.get(); });
  return await_or_exit(f);
}

// Declared after a future that blocks in the queue, so that a failed test still ends: the
// future's destructor waits for its thread, which this shutdown releases.
struct ShutdownAtExit {
  WorkQueue& q;
  ~ShutdownAtExit() { q.shutdown(); }
};

TEST(WorkQueue, AddsOfAQueuedKeyAreDeduplicated) {
  WorkQueue q;
  q.add("ns/a");
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(next(q), "ns/a");
  EXPECT_EQ(next(q), "ns/b");
  EXPECT_EQ(q.len(), 0u);
  q.done("ns/a");
  q.done("ns/b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, ReAddWhileProcessingIsQueuedAgainOnlyAfterDone) {
  WorkQueue q;
  q.add("ns/a");
  ASSERT_EQ(next(q), "ns/a");
  q.add("ns/a");
  q.add("ns/a");
  EXPECT_EQ(q.len(), 0u) << "a key being processed must not be handed out again";

  auto second = std::async(std::launch::async, [&] { return q.get(); });
  ShutdownAtExit release{q};
  EXPECT_FALSE(ready_within(second, 50ms)) << "a second worker got the key before done()";
  q.done("ns/a");
  ASSERT_TRUE(ready_within(second, kPatience));
  EXPECT_EQ(second.get(), "ns/a");
  q.done("ns/a");
  EXPECT_EQ(q.len(), 0u) << "two adds while processing re-queue it once";
}

TEST(WorkQueue, DoneOfAKeyNotHandedOutChangesNothing) {
  WorkQueue q;
  q.add("ns/a");
  q.done("ns/a");  // queued, not processing
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(next(q), "ns/a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, EightWorkersNeverProcessOneKeyAtOnce) {
  WorkQueue q;
  constexpr int kKeys = 3;
  constexpr int kAddsPerProducer = 3000;
  std::array<std::atomic<int>, kKeys> in_flight{};
  std::array<std::atomic<int>, kKeys> processed{};
  std::atomic<int> overlaps{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        int k = (*key)[3] - '0';
        if (in_flight[k].fetch_add(1) != 0) overlaps++;
        std::this_thread::yield();  // widen the window a second worker would need
        processed[k]++;
        in_flight[k].fetch_sub(1);
        q.done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) q.add("ns/" + std::to_string((i + p) % kKeys));
    });
  }
  for (auto& t : producers) t.join();
  q.shutdown();  // workers drain what is queued, then get() returns nullopt
  for (auto& t : workers) t.join();

  EXPECT_EQ(overlaps.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_GE(processed[k].load(), 1) << "key " << k;
}

TEST(WorkQueue, AddAfterHandsOutInTimeOrderAndTheEarliestAddWins) {
  FakeClock clock;
  WorkQueue q({.clock = clock.fn()});
  q.add_after("ns/c", 30ms);
  q.add_after("ns/a", 20ms);
  q.add_after("ns/b", 25ms);
  q.add_after("ns/a", 40ms);  // later: must not postpone a
  q.add_after("ns/b", 5ms);   // earlier: wins
  EXPECT_EQ(q.num_waiting(), 3u);
  EXPECT_EQ(q.len(), 0u);

  clock.advance(5ms);
  EXPECT_EQ(q.len(), 1u);  // b
  clock.advance(15ms);
  EXPECT_EQ(q.len(), 2u);  // b, a
  clock.advance(9ms);
  EXPECT_EQ(q.len(), 2u);  // c is due at 30ms
  clock.advance(1ms);
  EXPECT_EQ(q.len(), 3u);
  EXPECT_EQ(q.num_waiting(), 0u);
  EXPECT_EQ(next(q), "ns/b");
  EXPECT_EQ(next(q), "ns/a");
  EXPECT_EQ(next(q), "ns/c");
  clock.advance(1h);
  EXPECT_EQ(q.len(), 0u) << "the superseded add of a must not fire again";
}

TEST(WorkQueue, AddAfterWithoutDelayAddsAtOnce) {
  FakeClock clock;
  WorkQueue q({.clock = clock.fn()});
  q.add_after("ns/a", 0ms);
  q.add_after("ns/b", -5ms);
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.num_waiting(), 0u);
}

TEST(WorkQueue, AddAfterWakesABlockedGetter) {
  WorkQueue q;  // real clock: the delay thread must do the waking
  auto start = std::chrono::steady_clock::now();
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  ShutdownAtExit release{q};
  q.add_after("ns/late", 50ms);
  ASSERT_TRUE(ready_within(got, kPatience)) << "nobody woke the getter";
  EXPECT_EQ(got.get(), "ns/late");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
}

TEST(WorkQueue, DestructionWithPendingDelaysJoinsPromptly) {
  auto start = std::chrono::steady_clock::now();
  {
    WorkQueue q;
    q.add_after("ns/a", 1h);
    q.add_after("ns/b", 10ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(ItemExponentialFailureRateLimiter, DoublesFrom5msAndCapsAt1000s) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  Duration expected = 5ms;
  for (int i = 0; i < 18; ++i) {  // 5ms * 2^17 = 655.36s, still under the cap
    EXPECT_EQ(limiter.when("ns/a"), expected) << "failure " << i;
    expected *= 2;
  }
  EXPECT_EQ(limiter.when("ns/a"), 1000s);              // 5ms * 2^18 = 1310.72s
  for (int i = 0; i < 100; ++i) limiter.when("ns/a");  // 2^118 must not overflow
  EXPECT_EQ(limiter.when("ns/a"), 1000s);
  EXPECT_EQ(limiter.num_requeues("ns/a"), 120);
  EXPECT_EQ(limiter.when("ns/b"), 5ms) << "failures are per key";
}

TEST(ItemExponentialFailureRateLimiter, ForgetStartsOver) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  limiter.when("ns/a");
  limiter.when("ns/a");
  limiter.when("ns/b");
  EXPECT_EQ(limiter.num_requeues("ns/a"), 2);
  limiter.forget("ns/a");
  EXPECT_EQ(limiter.num_requeues("ns/a"), 0);
  EXPECT_EQ(limiter.when("ns/a"), 5ms);
  EXPECT_EQ(limiter.num_requeues("ns/b"), 1) << "forget touches only its key";
}

TEST(BucketRateLimiter, LetsABurstThroughThenPacesAtQps) {
  FakeClock clock;
  BucketRateLimiter bucket(10, 100, clock.fn());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(bucket.when("ns/k" + std::to_string(i)), 0ms) << i;
  EXPECT_EQ(bucket.when("ns/x"), 100ms);
  EXPECT_EQ(bucket.when("ns/y"), 200ms);
  clock.advance(1s);  // +10 tokens pay the debt of 2 and leave 8
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bucket.when("ns/z"), 0ms) << i;
  EXPECT_EQ(bucket.when("ns/z"), 100ms);
  clock.advance(1h);  // refills to the burst, not beyond
  for (int i = 0; i < 100; ++i) ASSERT_EQ(bucket.when("ns/w"), 0ms) << i;
  EXPECT_EQ(bucket.when("ns/w"), 100ms);
}

TEST(BucketRateLimiter, RejectsAZeroRateOrBurst) {
  EXPECT_THROW(BucketRateLimiter(0, 10), std::invalid_argument);
  EXPECT_THROW(BucketRateLimiter(10, 0), std::invalid_argument);
}

TEST(MaxOfRateLimiter, TakesTheLongestWaitAndForgetsEverywhere) {
  auto slow = std::make_shared<ItemExponentialFailureRateLimiter>(1s, 1h);
  auto fast = std::make_shared<ItemExponentialFailureRateLimiter>(1ms, 1h);
  MaxOfRateLimiter both({fast, slow});
  EXPECT_EQ(both.when("ns/a"), 1s);
  EXPECT_EQ(both.when("ns/a"), 2s);
  EXPECT_EQ(fast->num_requeues("ns/a"), 2) << "every limiter records the attempt";
  EXPECT_EQ(both.num_requeues("ns/a"), 2);
  both.forget("ns/a");
  EXPECT_EQ(slow->num_requeues("ns/a"), 0);
  EXPECT_EQ(fast->num_requeues("ns/a"), 0);
}

TEST(DefaultControllerRateLimiter, IsTheMaxOfBackoffAndTheBucket) {
  FakeClock clock;
  DefaultControllerRateLimiter limiter(clock.fn());
  EXPECT_EQ(limiter.when("ns/a"), 5ms);
  EXPECT_EQ(limiter.when("ns/a"), 10ms);
  EXPECT_EQ(limiter.num_requeues("ns/a"), 2);
  for (int i = 0; i < 98; ++i) limiter.when("ns/k" + std::to_string(i));  // bucket now empty
  EXPECT_EQ(limiter.when("ns/fresh"), 100ms) << "the bucket outweighs a first failure";
  limiter.forget("ns/a");
  EXPECT_EQ(limiter.num_requeues("ns/a"), 0);
  clock.advance(1h);
  EXPECT_EQ(limiter.when("ns/a"), 5ms);
}

TEST(WorkQueue, AddRateLimitedBacksOffPerKeyAndForgetResets) {
  FakeClock clock;
  WorkQueue q({.clock = clock.fn()});
  q.add_rate_limited("ns/a");  // due in 5ms
  clock.advance(4ms);
  EXPECT_EQ(q.len(), 0u);
  clock.advance(1ms);
  ASSERT_EQ(next(q), "ns/a");
  q.add_rate_limited("ns/a");  // 10ms
  q.done("ns/a");
  clock.advance(9ms);
  EXPECT_EQ(q.len(), 0u);
  clock.advance(1ms);
  ASSERT_EQ(next(q), "ns/a");
  EXPECT_EQ(q.num_requeues("ns/a"), 2);
  q.forget("ns/a");
  q.done("ns/a");
  EXPECT_EQ(q.num_requeues("ns/a"), 0);
  q.add_rate_limited("ns/a");  // 5ms again
  clock.advance(5ms);
  EXPECT_EQ(q.len(), 1u);
}

TEST(WorkQueue, AnInjectedRateLimiterDecidesTheDelay) {
  FakeClock clock;
  WorkQueue q({.clock = clock.fn(),
               .rate_limiter = std::make_shared<ItemExponentialFailureRateLimiter>(1s, 1h)});
  q.add_rate_limited("ns/a");
  clock.advance(999ms);
  EXPECT_EQ(q.len(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(q.len(), 1u);
}

TEST(WorkQueue, ShutdownWakesEveryBlockedGetter) {
  WorkQueue q;
  std::vector<std::future<std::optional<std::string>>> getters;
  for (int i = 0; i < 4; ++i) {
    getters.push_back(std::async(std::launch::async, [&] { return q.get(); }));
  }
  std::this_thread::sleep_for(20ms);  // let them block (the test holds either way)
  for (auto& g : getters) EXPECT_FALSE(ready_within(g, 0ms)) << "get() returned with no key";
  q.shutdown();
  for (auto& g : getters) EXPECT_EQ(await_or_exit(g), std::nullopt);
  EXPECT_TRUE(q.shutting_down());
}

TEST(WorkQueue, AfterShutdownGetDrainsTheQueueThenReturnsNullopt) {
  FakeClock clock;
  WorkQueue q({.clock = clock.fn()});
  q.add("ns/a");
  q.add_after("ns/later", 1s);
  q.shutdown();
  q.add("ns/b");
  q.add_after("ns/c", 0ms);
  q.add_after("ns/d", 1s);
  EXPECT_EQ(q.num_waiting(), 0u);
  EXPECT_EQ(next(q), "ns/a");
  clock.advance(1h);
  EXPECT_EQ(get_after_shutdown(q), std::nullopt) << "adds after shutdown, delayed keys: dropped";
  EXPECT_EQ(q.num_waiting(), 0u);
  q.done("ns/a");
}

TEST(WorkQueue, ShutdownWithDrainWaitsForDone) {
  WorkQueue q;
  q.add("ns/a");
  ASSERT_EQ(next(q), "ns/a");
  auto drain = std::async(std::launch::async, [&] { q.shutdown_with_drain(); });
  ShutdownAtExit release{q};
  EXPECT_FALSE(ready_within(drain, 50ms)) << "drain returned while ns/a was processing";
  q.done("ns/a");
  EXPECT_TRUE(ready_within(drain, kPatience));
  EXPECT_TRUE(q.shutting_down());
  EXPECT_EQ(get_after_shutdown(q), std::nullopt);
}

// Records every hook call; the queue calls them under its lock, this one locks anyway.
class RecordingObserver : public QueueObserver {
 public:
  void on_add(const std::string& key) noexcept override {
    rec([&] { adds.push_back(key); });
  }
  void on_depth(std::size_t d) noexcept override {
    rec([&] { depth.push_back(d); });
  }
  void on_retry(const std::string& key) noexcept override {
    rec([&] { retries.push_back(key); });
  }
  void on_queue_duration(const std::string& key, double s) noexcept override {
    rec([&] { queued[key].push_back(s); });
  }
  void on_work_duration(const std::string& key, double s) noexcept override {
    rec([&] { worked[key].push_back(s); });
  }
  void on_unfinished_work(double total, double longest) noexcept override {
    rec([&] { unfinished.push_back({total, longest}); });
  }

  std::vector<std::string> adds, retries;
  std::vector<std::size_t> depth;
  std::map<std::string, std::vector<double>> queued, worked;
  std::vector<std::pair<double, double>> unfinished;

 private:
  template <typename F>
  void rec(F f) {
    std::lock_guard lock(mu_);
    f();
  }
  std::mutex mu_;
};

TEST(WorkQueue, ObserverSeesAddsDepthRetriesAndDurations) {
  FakeClock clock;
  auto seen = std::make_shared<RecordingObserver>();
  WorkQueue q({.clock = clock.fn(), .observer = seen});

  q.add("ns/a");
  q.add("ns/a");  // deduplicated: no add, no depth change
  q.add("ns/b");
  EXPECT_EQ(seen->adds, (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(seen->depth, (std::vector<std::size_t>{1, 2}));

  clock.advance(3ms);
  ASSERT_EQ(next(q), "ns/a");
  EXPECT_EQ(seen->depth.back(), 1u);
  ASSERT_EQ(seen->queued["ns/a"].size(), 1u);
  EXPECT_DOUBLE_EQ(seen->queued["ns/a"][0], 0.003);

  q.add("ns/a");  // while processing: counts as an add and as depth
  EXPECT_EQ(seen->adds.size(), 3u);
  EXPECT_EQ(seen->depth.back(), 2u);

  clock.advance(7ms);
  q.done("ns/a");
  ASSERT_EQ(seen->worked["ns/a"].size(), 1u);
  EXPECT_DOUBLE_EQ(seen->worked["ns/a"][0], 0.007);
  ASSERT_EQ(next(q), "ns/b");
  EXPECT_DOUBLE_EQ(seen->queued["ns/b"][0], 0.010);
  clock.advance(1ms);
  ASSERT_EQ(next(q), "ns/a");
  EXPECT_DOUBLE_EQ(seen->queued["ns/a"][1], 0.008) << "waited from the re-add, not the first add";
  EXPECT_EQ(seen->depth.back(), 0u);

  clock.advance(2s);
  q.update_unfinished_work();  // ns/b for 2.001s, ns/a for 2s
  ASSERT_EQ(seen->unfinished.size(), 1u);
  EXPECT_NEAR(seen->unfinished[0].first, 4.001, 1e-9);
  EXPECT_NEAR(seen->unfinished[0].second, 2.001, 1e-9);

  q.add_rate_limited("ns/c");
  q.add_after("ns/d", 1s);
  EXPECT_EQ(seen->retries, (std::vector<std::string>{"ns/c", "ns/d"}));
  EXPECT_EQ(seen->adds.size(), 3u) << "a delayed key is added when it is due";
  clock.advance(1s);
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(seen->adds.size(), 5u);
  EXPECT_EQ(seen->depth.back(), 2u);
}

}  // namespace
}  // namespace rc::runtime

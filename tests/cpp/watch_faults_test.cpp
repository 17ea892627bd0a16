// The informer against a simulator that misbehaves the ways real API servers and networks do:
// a 401 on a watch, an ERROR event other than 410, a connection that falls silent, and an event
// handler that throws. Each must cost at most a short, bounded delay, never a blind cache.
#include <gtest/gtest.h>

#include <atomic>

#include "remotecode/runtime/informer.h"
#include "sim_fixture.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};

class WatchFaults : public rc::testing::SimTest {
 protected:
  std::shared_ptr<rc::runtime::Informer> informer(rc::runtime::InformerOptions io = {}) {
    io.namespace_name = "default";
    return std::make_shared<rc::runtime::Informer>(client("watch-faults-test"), kConfigMaps, io);
  }
  void make(const std::string& name) {
    admin_->create(kConfigMaps, "default", {{"metadata", {{"name", name}}}});
  }
  static bool cached(const rc::runtime::Informer& inf, const std::string& name) {
    return inf.store().get("default/" + name) != nullptr;
  }
};

TEST_F(WatchFaults, A401OnAWatchDoesNotBlindTheInformer) {
  start_sim();
  faults({{"unauthorizedWatches", 1}});  // the informer's first watch
  auto inf = informer();
  inf->start();
  ASSERT_TRUE(inf->wait_for_sync(10s));
  ASSERT_TRUE(eventually([&] { return requests("watch configmaps") >= 2; }, 5s))
      << "the 401 was retried";
  make("after-the-401");
  EXPECT_TRUE(eventually([&] { return cached(*inf, "after-the-401"); }, 5s))
      << "events of the retried watch must reach the cache";
  inf->stop();
}

TEST_F(WatchFaults, AnErrorEventBacksOffAndThenListsAgain) {
  start_sim();
  faults({{"watchErrorCode", 500}});
  auto inf = informer();
  inf->start();
  ASSERT_TRUE(inf->wait_for_sync(10s));
  std::this_thread::sleep_for(3s);
  // Backing off from 0.8 s, doubling: three or four watches in 3 s, not hundreds.
  int64_t watches = requests("watch configmaps");
  EXPECT_LE(watches, 5) << "watches reopened without backoff";
  EXPECT_TRUE(eventually([&] { return requests("watch configmaps") >= 2; }, 15s))
      << "the failed watch is opened again";
  // After repeated failures the informer lists again, as client-go's reflector does.
  EXPECT_TRUE(eventually([&] { return inf->lists() >= 2; }, 12s)) << inf->lists();
  EXPECT_FALSE(inf->last_error().empty());
  faults(json::object());
  make("after-the-errors");
  EXPECT_TRUE(eventually([&] { return cached(*inf, "after-the-errors"); }, 25s));
  inf->stop();
}

TEST_F(WatchFaults, ASilentWatchIsTakenForDeadAndResumed) {
  start_sim();
  rc::runtime::InformerOptions io;
  io.watch_idle_timeout_seconds = 2;
  auto inf = informer(io);
  inf->start();
  ASSERT_TRUE(inf->wait_for_sync(10s));
  make("before");
  ASSERT_TRUE(eventually([&] { return cached(*inf, "before"); }, 5s));
  // The open watch falls silent for good (a half-open connection); new watches are fine again.
  faults({{"stallWatches", true}});
  std::this_thread::sleep_for(1500ms);
  faults(json::object());
  make("after-the-silence");
  EXPECT_TRUE(eventually([&] { return cached(*inf, "after-the-silence"); }, 10s))
      << "the silent watch was never replaced";
  inf->stop();
}

TEST_F(WatchFaults, AThrowingHandlerDoesNotStopTheWatch) {
  start_sim();
  auto inf = informer();
  std::atomic<int> good{0};
  inf->add_handlers({[&](const rc::runtime::ObjectPtr& o) {
                       std::string name = (*o)["metadata"].value("name", "");
                       if (name == "throws-std") throw std::out_of_range("a handler's bug");
                       if (name == "throws-int") throw 42;
                       if (name == "fine") ++good;
                     },
                     nullptr, nullptr});
  inf->start();
  ASSERT_TRUE(inf->wait_for_sync(10s));
  make("throws-std");
  make("throws-int");
  make("fine");
  EXPECT_TRUE(eventually([&] { return good.load() == 1; }, 5s));
  EXPECT_TRUE(cached(*inf, "throws-std"));
  EXPECT_TRUE(cached(*inf, "throws-int"));
  inf->stop();
}

}  // namespace

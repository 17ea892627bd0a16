// Leader election when the leader's network is cut off (its requests get no answer at all):
// the leader must stop leading before a standby can take the lease, so two never lead at once.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>

#include "remotecode/runtime/leader_election.h"
#include "sim_fixture.h"

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Watched {
  std::atomic<int64_t> started_ms{0}, stopped_ms{0};
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
  }
  std::function<void()> on_started() {
    return [this] { started_ms = now_ms(); };
  }
  std::function<void()> on_stopped() {
    return [this] { stopped_ms = now_ms(); };
  }
};

class LeaderElection : public rc::testing::SimTest {
 protected:
  rc::runtime::LeaderElectionOptions options(const std::string& identity) {
    rc::runtime::LeaderElectionOptions o;
    o.namespace_name = "le";
    o.lease_name = "test";
    o.identity = identity;
    o.lease_duration = 6s;
    o.renew_deadline = 4s;
    o.retry_period = 1s;
    return o;
  }
  std::unique_ptr<rc::runtime::LeaderElector> elector(const std::string& identity) {
    auto o = options(identity);
    auto shared = client("le-" + identity);
    return std::make_unique<rc::runtime::LeaderElector>(
        rc::runtime::leader_election_client(*shared, o), o);
  }
};

TEST_F(LeaderElection, ABlackHoledLeaderStopsBeforeAnotherTakesOver) {
  start_sim();
  create_namespace("le");
  Watched a, b;
  auto alpha = elector("alpha");
  alpha->start(a.on_started(), a.on_stopped());
  ASSERT_TRUE(eventually([&] { return alpha->leading(); }, 10s));
  auto beta = elector("beta");
  beta->start(b.on_started(), b.on_stopped());
  std::this_thread::sleep_for(2s);
  ASSERT_FALSE(beta->leading());

  faults({{"blackholeUserAgent", "le-alpha"}});
  int64_t cut = Watched::now_ms();
  ASSERT_TRUE(eventually([&] { return beta->leading(); }, 20s)) << "the standby never took over";
  ASSERT_NE(a.stopped_ms.load(), 0) << "alpha still led when beta took the lease";
  EXPECT_LT(a.stopped_ms.load(), b.started_ms.load());
  // Within the renew deadline of its last renewal (at most a retry period before the cut).
  EXPECT_LE(a.stopped_ms.load() - cut, 4000 + 500);
  EXPECT_FALSE(alpha->leading());
  std::cout << "[ figures  ] alpha stopped " << a.stopped_ms - cut << " ms after the cut, beta led "
            << b.started_ms - cut << " ms after it\n";
  faults(json::object());
  beta->stop();
  alpha->stop();
}

TEST_F(LeaderElection, RenewalsDoNotWaitForTheSharedClientsTokens) {
  start_sim();
  create_namespace("le");
  // A shared client whose bucket is empty for a long time: one token per 100 s.
  rc::kube::ClientOptions starved;
  starved.qps = 0.01;
  starved.burst = 1;
  starved.user_agent = "le-shared";
  auto shared = rc::kube::Client::connect(config_, starved);
  shared->acquire_token();  // the only token
  auto o = options("solo");
  rc::runtime::LeaderElector solo(rc::runtime::leader_election_client(*shared, o), o);
  Watched w;
  solo.start(w.on_started(), w.on_stopped());
  ASSERT_TRUE(eventually([&] { return solo.leading(); }, 5s));
  std::this_thread::sleep_for(6s);  // longer than the lease: renewals went through
  EXPECT_TRUE(solo.leading());
  EXPECT_EQ(w.stopped_ms.load(), 0);
  solo.stop();
}

}  // namespace

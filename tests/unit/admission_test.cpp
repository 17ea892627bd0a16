// decide_admission: queue order, quota head-of-line blocking per namespace, the cluster-wide limit,
// runs that can never fit, and positions.
#include <gtest/gtest.h>

#include "remotecode/controllers/admission.h"

namespace rc::controllers {
namespace {

using Keys = std::vector<std::string>;

WaitingRun run(const std::string& ns, const std::string& job, int index, int64_t gpus,
               int64_t priority = 0, const std::string& created = "2026-01-01T00:00:00Z",
               int64_t workers = 1) {
  WaitingRun r;
  r.ns = ns;
  r.owner = ns + "/" + job;
  r.key = ns + "/" + job + "-" + std::to_string(index);
  r.priority = priority;
  r.created = created;
  r.index = index;
  r.gpus_per_worker = gpus;
  r.workers = workers;
  return r;
}

TEST(Admission, EmptyInput) {
  AdmissionDecision d = decide_admission({}, QueueState{});
  EXPECT_TRUE(d.admit.empty());
  EXPECT_TRUE(d.position.empty());
  EXPECT_TRUE(d.never_fits.empty());
}

TEST(Admission, NoLimitsAdmitsEverythingInQueueOrder) {
  std::vector<WaitingRun> w = {
      run("a", "old", 1, 1, 0, "2026-01-01T00:00:00Z"),
      run("a", "new", 0, 1, 0, "2026-01-02T00:00:00Z"),
      run("a", "old", 0, 1, 0, "2026-01-01T00:00:00Z"),
      run("b", "urgent", 0, 1, 10, "2026-01-03T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, QueueState{});
  EXPECT_EQ(d.admit, (Keys{"b/urgent-0", "a/old-0", "a/old-1", "a/new-0"}));
  EXPECT_TRUE(d.position.empty());
  EXPECT_TRUE(d.never_fits.empty());
}

TEST(Admission, PriorityThenCreationThenOwnerThenIndex) {
  QueueState s;
  s.max_running_runs = 1;
  std::vector<WaitingRun> w = {
      run("a", "zeta", 0, 0, 5, "2026-01-01T00:00:00Z"),
      run("a", "alpha", 1, 0, 5, "2026-01-01T00:00:00Z"),
      run("a", "alpha", 0, 0, 5, "2026-01-01T00:00:00Z"),
      run("a", "older", 0, 0, 5, "2025-12-31T23:59:59Z"),
      run("a", "high", 0, 0, 7, "2026-02-01T00:00:00Z"),
      run("a", "low", 0, 0, -1, "2020-01-01T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/high-0"}));
  EXPECT_EQ(
      d.position,
      (std::map<std::string, int>{
          {"a/older-0", 1}, {"a/alpha-0", 2}, {"a/alpha-1", 3}, {"a/zeta-0", 4}, {"a/low-0", 5}}));
}

TEST(Admission, QuotaAdmitsWhatFitsCountingWhatIsInUse) {
  QueueState s;
  s.gpu_quota["a"] = 4;
  s.gpus_in_use["a"] = 1;
  std::vector<WaitingRun> w = {
      run("a", "j", 0, 1, 0, "2026-01-01T00:00:00Z"),
      run("a", "j", 1, 1, 0, "2026-01-01T00:00:00Z"),
      run("a", "j", 2, 1, 0, "2026-01-01T00:00:00Z"),
      run("a", "j", 3, 1, 0, "2026-01-01T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/j-0", "a/j-1", "a/j-2"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/j-3", 1}}));
}

TEST(Admission, QuotaCountsEveryWorker) {
  QueueState s;
  s.gpu_quota["a"] = 8;
  std::vector<WaitingRun> w = {
      run("a", "multi", 0, 2, 1, "2026-01-01T00:00:00Z", 3),  // 6 GPUs
      run("a", "single", 0, 2, 0, "2026-01-01T00:00:00Z"),    // 2 more: 8
      run("a", "extra", 0, 1, 0, "2026-01-02T00:00:00Z"),     // 9 > 8
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/multi-0", "a/single-0"}));
  EXPECT_EQ(d.position.at("a/extra-0"), 1);
}

TEST(Admission, HeadOfLineBlockingWithinANamespace) {
  // The big job first in line does not fit yet; the small later one would, but waits behind it
  // so that the big one is not starved.
  QueueState s;
  s.gpu_quota["a"] = 4;
  s.gpus_in_use["a"] = 2;
  std::vector<WaitingRun> w = {
      run("a", "big", 0, 4, 0, "2026-01-01T00:00:00Z"),
      run("a", "small", 0, 1, 0, "2026-01-02T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_TRUE(d.admit.empty());
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/big-0", 1}, {"a/small-0", 2}}));

  // A higher-priority small job goes first, it fits, then the big one blocks the rest.
  w.push_back(run("a", "urgent", 0, 1, 9, "2026-01-03T00:00:00Z"));
  d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/urgent-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/big-0", 1}, {"a/small-0", 2}}));
}

TEST(Admission, NamespacesAreIndependent) {
  QueueState s;
  s.gpu_quota["a"] = 2;
  s.gpus_in_use["a"] = 2;
  s.gpu_quota["b"] = 2;
  std::vector<WaitingRun> w = {
      run("a", "blocked", 0, 1, 5, "2026-01-01T00:00:00Z"),
      run("b", "free", 0, 2, 0, "2026-01-02T00:00:00Z"),
      run("c", "noquota", 0, 8, 0, "2026-01-03T00:00:00Z"),
      run("a", "later", 0, 1, 0, "2026-01-04T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"b/free-0", "c/noquota-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/blocked-0", 1}, {"a/later-0", 2}}));
}

TEST(Admission, MaxRunningStopsAdmission) {
  QueueState s;
  s.max_running_runs = 3;
  s.running_runs = 1;
  std::vector<WaitingRun> w = {
      run("a", "j", 0, 1, 0, "2026-01-01T00:00:00Z"),
      run("b", "k", 0, 1, 0, "2026-01-02T00:00:00Z"),
      run("c", "l", 0, 0, 0, "2026-01-03T00:00:00Z"),
      run("d", "m", 0, 1, 0, "2026-01-04T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/j-0", "b/k-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"c/l-0", 1}, {"d/m-0", 2}}));

  s.running_runs = 3;  // already full
  d = decide_admission(w, s);
  EXPECT_TRUE(d.admit.empty());
  EXPECT_EQ(d.position.size(), 4u);

  s.running_runs = 5;  // over the limit (lowered while jobs ran)
  d = decide_admission(w, s);
  EXPECT_TRUE(d.admit.empty());

  s.max_running_runs = 0;  // unlimited
  d = decide_admission(w, s);
  EXPECT_EQ(d.admit.size(), 4u);
}

TEST(Admission, NeverFitsByQuota) {
  QueueState s;
  s.gpu_quota["a"] = 4;
  std::vector<WaitingRun> w = {
      run("a", "huge", 0, 4, 9, "2026-01-01T00:00:00Z", 2),  // 8 > 4
      run("a", "small", 0, 1, 0, "2026-01-02T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  // The one that can never fit does not block the one behind it.
  EXPECT_EQ(d.admit, (Keys{"a/small-0"}));
  EXPECT_TRUE(d.position.empty());
  ASSERT_EQ(d.never_fits.count("a/huge-0"), 1u);
  const std::string& why = d.never_fits.at("a/huge-0");
  EXPECT_NE(why.find("needs 8 GPUs"), std::string::npos) << why;
  EXPECT_NE(why.find("quota allows 4"), std::string::npos) << why;
  EXPECT_NE(why.find("requests.nvidia.com/gpu"), std::string::npos) << why;

  s.gpu_quota["a"] = 0;
  d = decide_admission({run("a", "one", 0, 1)}, s);
  EXPECT_TRUE(d.admit.empty());
  EXPECT_NE(d.never_fits.at("a/one-0").find("quota allows 0"), std::string::npos);
}

TEST(Admission, NeverFitsByNodeCapacity) {
  QueueState s;
  s.max_gpus_per_node = 4;
  std::vector<WaitingRun> w = {
      run("a", "wide", 0, 8, 5, "2026-01-01T00:00:00Z"),
      run("a", "spread", 0, 4, 0, "2026-01-02T00:00:00Z", 4),  // 16 GPUs, 4 a node: fits
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/spread-0"}));
  ASSERT_EQ(d.never_fits.count("a/wide-0"), 1u);
  const std::string& why = d.never_fits.at("a/wide-0");
  EXPECT_NE(why.find("each worker needs 8 GPUs but the largest node has 4"), std::string::npos)
      << why;

  s.max_gpus_per_node.reset();  // no node known: no verdict
  d = decide_admission(w, s);
  EXPECT_EQ(d.admit.size(), 2u);
  EXPECT_TRUE(d.never_fits.empty());
}

TEST(Admission, NeverFittingRunsTakeNoPosition) {
  QueueState s;
  s.max_running_runs = 1;
  s.max_gpus_per_node = 2;
  std::vector<WaitingRun> w = {
      run("a", "first", 0, 1, 0, "2026-01-01T00:00:00Z"),
      run("a", "impossible", 0, 3, 0, "2026-01-02T00:00:00Z"),
      run("a", "second", 0, 1, 0, "2026-01-03T00:00:00Z"),
      run("b", "third", 0, 1, 0, "2026-01-04T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/first-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/second-0", 1}, {"b/third-0", 2}}));
  EXPECT_EQ(d.never_fits.size(), 1u);
}

TEST(Admission, ZeroGpuRunsIgnoreQuotaButCountForMaxRunning) {
  QueueState s;
  s.gpu_quota["a"] = 0;
  s.gpus_in_use["a"] = 3;  // over quota already (a workspace)
  s.max_gpus_per_node = 0;
  std::vector<WaitingRun> w = {
      run("a", "gpu", 0, 1, 5, "2026-01-01T00:00:00Z"),  // never fits (quota 0)
      run("a", "cpu", 0, 0, 0, "2026-01-02T00:00:00Z"),
      run("a", "cpu2", 0, 0, 0, "2026-01-03T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_EQ(d.admit, (Keys{"a/cpu-0", "a/cpu2-0"}));
  EXPECT_EQ(d.never_fits.size(), 1u);

  // A CPU-only run is not held behind a GPU run that is waiting for quota.
  QueueState q;
  q.gpu_quota["a"] = 2;
  q.gpus_in_use["a"] = 2;
  d = decide_admission({run("a", "gpu", 0, 1, 5, "2026-01-01T00:00:00Z"),
                        run("a", "cpu", 0, 0, 0, "2026-01-02T00:00:00Z")},
                       q);
  EXPECT_EQ(d.admit, (Keys{"a/cpu-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"a/gpu-0", 1}}));

  // ... but it takes a slot of the cluster-wide limit.
  q.max_running_runs = 1;
  d = decide_admission({run("a", "cpu", 0, 0, 0, "2026-01-01T00:00:00Z"),
                        run("b", "gpu", 0, 1, 0, "2026-01-02T00:00:00Z")},
                       q);
  EXPECT_EQ(d.admit, (Keys{"a/cpu-0"}));
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"b/gpu-0", 1}}));
}

TEST(Admission, PositionsAreClusterWide) {
  QueueState s;
  s.gpu_quota["a"] = 1;
  s.gpu_quota["b"] = 1;
  s.gpus_in_use["a"] = 1;
  s.gpus_in_use["b"] = 1;
  std::vector<WaitingRun> w = {
      run("b", "x", 0, 1, 0, "2026-01-02T00:00:00Z"),
      run("a", "y", 0, 1, 0, "2026-01-01T00:00:00Z"),
      run("b", "z", 0, 1, 1, "2026-01-03T00:00:00Z"),
  };
  AdmissionDecision d = decide_admission(w, s);
  EXPECT_TRUE(d.admit.empty());
  EXPECT_EQ(d.position, (std::map<std::string, int>{{"b/z-0", 1}, {"a/y-0", 2}, {"b/x-0", 3}}));
}

}  // namespace
}  // namespace rc::controllers

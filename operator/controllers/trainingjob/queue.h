// The training-job queue at work: one admission pass at a time looks at the whole cluster
// (caches plus the ledger of its own recent admissions), asks decide_admission which runs may
// start, unsuspends their Jobs, and keeps the decision for the TrainingJob reconciles to show
// (queue positions, runs that can never fit).
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "remotecode/controllers/config.h"
#include "remotecode/controllers/events.h"
#include "remotecode/controllers/trainingjob_queue.h"
#include "remotecode/kube/client.h"
#include "remotecode/runtime/informer.h"

namespace rc::controllers::trainingjob {

struct QueueInformers {
  std::shared_ptr<runtime::Informer> trainingjobs, jobs, deployments, quotas, nodes;
};

// What the last pass decided about one waiting run.
struct RunVerdict {
  std::optional<int> position;
  std::string never_fits;
};

// Cached custom resources normally carry apiVersion and kind; owner references and Events need
// them, so they are set for sure.
nlohmann::json trainingjob_with_kind(const nlohmann::json& trainingjob);

class AdmissionQueue {
 public:
  AdmissionQueue(std::shared_ptr<kube::Client> client, const OperatorConfig& config,
                 std::shared_ptr<EventRecorder> events, QueueInformers informers);

  struct PassResult {
    std::set<std::string> changed;  // TrainingJob keys whose runs' verdicts changed
    bool failed = false;            // a patch failed: run again soon
  };
  // One pass. Passes never overlap (a mutex), so no two can admit into the same free GPUs.
  PassResult run_pass();

  RunVerdict verdict(const std::string& job_key) const;

 private:
  struct Verdicts {
    std::map<std::string, RunVerdict> by_job;  // "namespace/job" -> verdict
    std::map<std::string, std::string> owner;  // "namespace/job" -> "namespace/trainingjob"
  };
  bool admit(const WaitingRun& run);
  std::set<std::string> changed_owners(const Verdicts& before, const Verdicts& after) const;

  std::shared_ptr<kube::Client> client_;
  OperatorConfig config_;
  std::shared_ptr<EventRecorder> events_;
  QueueInformers informers_;

  std::mutex pass_mu_;  // held for a whole pass; guards ledger_
  Ledger ledger_;
  mutable std::mutex verdicts_mu_;
  Verdicts verdicts_;
};

}  // namespace rc::controllers::trainingjob

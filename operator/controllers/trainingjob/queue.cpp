// The admission pass: gather, decide, unsuspend, remember.
#include "queue.h"

#include <spdlog/spdlog.h>

#include "remotecode/api/common.h"
#include "remotecode/controllers/children.h"

namespace rc::controllers::trainingjob {

using nlohmann::json;

namespace {

std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace

json trainingjob_with_kind(const json& tj) {
  json out = tj;
  out["apiVersion"] = api::kApiVersion;
  out["kind"] = "TrainingJob";
  return out;
}

AdmissionQueue::AdmissionQueue(std::shared_ptr<kube::Client> client, const OperatorConfig& config,
                               std::shared_ptr<EventRecorder> events, QueueInformers informers)
    : client_(std::move(client)),
      config_(config),
      events_(std::move(events)),
      informers_(std::move(informers)) {}

AdmissionQueue::PassResult AdmissionQueue::run_pass() {
  std::lock_guard pass(pass_mu_);
  ClusterView view;
  view.jobs = informers_.jobs->store().list();
  view.deployments = informers_.deployments->store().list();
  view.quotas = informers_.quotas->store().list();
  view.nodes = informers_.nodes->store().list();
  view.trainingjob = [this](const std::string& key) {
    return informers_.trainingjobs->store().get(key);
  };
  auto inputs =
      gather_queue(view, ledger_, config_.max_running_jobs, std::chrono::steady_clock::now());
  std::map<std::string, const WaitingRun*> waiting;
  for (const auto& w : inputs.waiting) waiting[w.key] = &w;

  AdmissionDecision decision = decide_admission(inputs.waiting, inputs.state);

  PassResult result;
  std::set<std::string> admitted;
  for (const auto& key : decision.admit) {
    auto it = waiting.find(key);
    if (it == waiting.end()) continue;
    if (admit(*it->second)) {
      result.changed.insert(it->second->owner);
      admitted.insert(key);
    } else {
      result.failed = true;
    }
  }
  Verdicts next;
  for (const auto& [key, w] : waiting) {
    if (admitted.count(key)) continue;
    next.owner[key] = w->owner;
    RunVerdict v;
    if (auto p = decision.position.find(key); p != decision.position.end()) v.position = p->second;
    if (auto n = decision.never_fits.find(key); n != decision.never_fits.end())
      v.never_fits = n->second;
    next.by_job[key] = v;
  }
  std::lock_guard lk(verdicts_mu_);
  for (const auto& owner : changed_owners(verdicts_, next)) result.changed.insert(owner);
  verdicts_ = std::move(next);
  return result;
}

bool AdmissionQueue::admit(const WaitingRun& run) {
  auto [ns, name] = split_key(run.key);
  try {
    json patched = client_->patch(refs::jobs(), ns, name, kube::PatchType::Merge,
                                  {{"spec", {{"suspend", false}}}});
    ledger_[run.key] =
        LedgerEntry{ns, run.gpus(), patched.at("metadata").value("resourceVersion", ""),
                    std::chrono::steady_clock::now()};
  } catch (const kube::ApiError& e) {
    if (e.not_found()) return true;  // deleted meanwhile: nothing to admit
    spdlog::warn("trainingjob queue: admitting {} failed: {}", run.key, e.what());
    return false;
  } catch (const std::exception& e) {
    spdlog::warn("trainingjob queue: admitting {} failed: {}", run.key, e.what());
    return false;
  }
  if (auto tj = informers_.trainingjobs->store().get(run.owner)) {
    std::string gpus = run.gpus() > 0 ? " with " + std::to_string(run.gpus()) + " GPU(s)" : "";
    events_->record(trainingjob_with_kind(*tj), "Normal", "Admitted",
                    "run " + name + " admitted" + gpus);
  }
  return true;
}

RunVerdict AdmissionQueue::verdict(const std::string& job_key) const {
  std::lock_guard lk(verdicts_mu_);
  auto it = verdicts_.by_job.find(job_key);
  return it == verdicts_.by_job.end() ? RunVerdict{} : it->second;
}

std::set<std::string> AdmissionQueue::changed_owners(const Verdicts& before,
                                                     const Verdicts& after) const {
  std::set<std::string> out;
  auto differs = [](const RunVerdict* a, const RunVerdict* b) {
    if (!a || !b) return a != b;
    return a->position != b->position || a->never_fits != b->never_fits;
  };
  auto compare = [&](const Verdicts& from, const Verdicts& to) {
    for (const auto& [key, v] : from.by_job) {
      auto it = to.by_job.find(key);
      if (differs(&v, it == to.by_job.end() ? nullptr : &it->second))
        out.insert(from.owner.at(key));
    }
  };
  compare(before, after);
  compare(after, before);
  return out;
}

}  // namespace rc::controllers::trainingjob

// The queue's inputs, gathered from cached objects.
#include <charconv>
#include <set>

#include "remotecode/controllers/children.h"
#include "remotecode/controllers/pod.h"
#include "remotecode/controllers/trainingjob_queue.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/controllers/trainingjob_status.h"
#include "remotecode/kube/quantity.h"
#include "remotecode/runtime/controller.h"

namespace rc::controllers::trainingjob {

using nlohmann::json;

namespace {

int64_t quantity_count(const json& value) {
  auto q = kube::parse_quantity(value);
  return q ? static_cast<int64_t>(*q) : 0;
}

std::optional<int64_t> as_number(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// resourceVersions are opaque to clients, but every server we meet (etcd revisions, the
// simulator's counter) writes integers; when both are, "at least as new" is a comparison.
bool seen_at_least(const std::string& cached, const std::string& wanted) {
  auto c = as_number(cached), w = as_number(wanted);
  if (c && w) return *c >= *w;
  return cached == wanted;
}

// The hard GPU quota of each namespace (the smallest, when several quotas set one).
std::map<std::string, int64_t> gpu_quotas(const std::vector<runtime::ObjectPtr>& quotas) {
  std::map<std::string, int64_t> out;
  for (const auto& q : quotas) {
    const json hard = (*q).value("spec", json::object()).value("hard", json::object());
    for (const char* key : {"requests.nvidia.com/gpu", "limits.nvidia.com/gpu"}) {
      if (!hard.contains(key)) continue;
      std::string ns = (*q).at("metadata").value("namespace", "");
      int64_t n = quantity_count(hard[key]);
      auto it = out.find(ns);
      out[ns] = it == out.end() ? n : std::min(it->second, n);
    }
  }
  return out;
}

std::optional<int64_t> max_node_gpus(const std::vector<runtime::ObjectPtr>& nodes) {
  std::optional<int64_t> best;
  for (const auto& n : nodes) {
    const json alloc = (*n).value("status", json::object()).value("allocatable", json::object());
    int64_t gpus = alloc.contains(kGpuResource) ? quantity_count(alloc[kGpuResource]) : 0;
    best = std::max(best.value_or(0), gpus);
  }
  return best;
}

// Running workspaces hold their GPUs against the same quota.
void add_workspace_gpus(const std::vector<runtime::ObjectPtr>& deployments, QueueState& state) {
  for (const auto& d : deployments) {
    const json& md = (*d).at("metadata");
    if (md.value("labels", json::object()).value(kKindLabel, "") != "workspace") continue;
    const json spec = (*d).value("spec", json::object());
    int64_t replicas = spec.value("replicas", int64_t{1});
    if (replicas < 1) continue;
    int64_t gpus = pod_template_gpus(spec.value("template", json::object())) * replicas;
    if (gpus > 0) state.gpus_in_use[md.value("namespace", "")] += gpus;
  }
}

// The TrainingJob may have runs waiting: it exists, is not going away, stopped or finished.
bool accepts_runs(const runtime::ObjectPtr& tj) {
  if (!tj || (*tj).at("metadata").contains("deletionTimestamp")) return false;
  if ((*tj).value("spec", json::object()).value("suspend", false)) return false;
  return !is_terminal_phase((*tj).value("status", json::object()).value("phase", ""));
}

int run_index(const json& job) {
  std::string v = job.at("metadata").value("labels", json::object()).value(kRunLabel, "");
  return static_cast<int>(as_number(v).value_or(0));
}

}  // namespace

int64_t pod_template_gpus(const json& pod_template) {
  int64_t total = 0;
  const json spec = pod_template.value("spec", json::object());
  for (const auto& c : spec.value("containers", json::array())) {
    const json res = c.value("resources", json::object());
    const json limits = res.value("limits", json::object());
    const json requests = res.value("requests", json::object());
    if (limits.contains(kGpuResource))
      total += quantity_count(limits[kGpuResource]);
    else if (requests.contains(kGpuResource))
      total += quantity_count(requests[kGpuResource]);
  }
  return total;
}

int64_t job_gpus(const json& job) {
  const json spec = job.value("spec", json::object());
  return pod_template_gpus(spec.value("template", json::object())) *
         std::max<int64_t>(1, spec.value("parallelism", int64_t{1}));
}

QueueInputs gather_queue(const ClusterView& cluster, Ledger& ledger, int max_running_runs,
                         std::chrono::steady_clock::time_point now) {
  QueueInputs in;
  in.state.max_running_runs = max_running_runs;
  in.state.gpu_quota = gpu_quotas(cluster.quotas);
  in.state.max_gpus_per_node = max_node_gpus(cluster.nodes);
  add_workspace_gpus(cluster.deployments, in.state);

  std::set<std::string> seen;
  for (const auto& job_ptr : cluster.jobs) {
    const json& job = *job_ptr;
    std::string owner = runtime::controller_owner_key(job, "TrainingJob");
    if (owner.empty()) continue;
    std::string key = runtime::object_key(job);
    std::string ns = job.at("metadata").value("namespace", "");
    seen.insert(key);
    if (job_finished(job)) {
      ledger.erase(key);
      continue;
    }
    int64_t gpus = job_gpus(job);
    bool suspended = job.value("spec", json::object()).value("suspend", false);
    if (suspended) {
      auto it = ledger.find(key);
      if (it != ledger.end()) {
        bool caught_up = seen_at_least(job.at("metadata").value("resourceVersion", ""),
                                       it->second.resource_version);
        // Caught up yet suspended: stopped after admission. Timed out: trust the cache.
        if (caught_up || now - it->second.admitted > kLedgerTimeout)
          ledger.erase(it);
        else
          suspended = false;
      }
    } else {
      ledger.erase(key);
    }
    if (!suspended) {
      in.state.gpus_in_use[ns] += gpus;
      ++in.state.running_runs;
      continue;
    }
    auto tj = cluster.trainingjob(owner);
    if (!accepts_runs(tj)) continue;
    WaitingRun w;
    w.key = key;
    w.ns = ns;
    w.owner = owner;
    w.priority = (*tj).value("spec", json::object()).value("priority", int64_t{0});
    w.created = (*tj).at("metadata").value("creationTimestamp", "");
    w.index = run_index(job);
    w.workers = std::max<int64_t>(1, job.at("spec").value("parallelism", int64_t{1}));
    w.gpus_per_worker = gpus / w.workers;
    in.waiting.push_back(std::move(w));
  }
  // Admitted Jobs the cache does not hold (deleted since) hold nothing.
  for (auto it = ledger.begin(); it != ledger.end();)
    it = seen.count(it->first) ? std::next(it) : ledger.erase(it);
  return in;
}

}  // namespace rc::controllers::trainingjob

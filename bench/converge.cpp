// `rc-bench converge`: the burst and the stopwatch. Creates N Workspaces and N TrainingJobs at
// once and watches until every child exists and every status is current (observedGeneration ==
// generation, phase Running for Workspaces and Succeeded for TrainingJobs), whoever writes them:
// the operator or the floor. Times come from this process's own watches, so both are measured
// the same way.
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include "commands.h"
#include "common.h"
#include "remotecode/controllers/children.h"
#include "remotecode/runtime/informer.h"

namespace rc::bench {

using nlohmann::json;
namespace refs = controllers::refs;

namespace {

bool in_bench_namespace(const json& obj) {
  return obj.at("metadata").value("namespace", "").rfind(kNamespacePrefix, 0) == 0;
}

// What the watches have seen, in seconds since the burst started.
class Tracker {
 public:
  explicit Tracker(int64_t n) : n_(n) {}

  void sent(const std::string& key, double t) {
    std::lock_guard lock(mu_);
    sent_[key] = t;
  }

  // A Workspace or TrainingJob changed: is its status current with the wanted phase?
  void primary(const json& obj, const char* phase) {
    if (!in_bench_namespace(obj)) return;
    const json& md = obj.at("metadata");
    const json status = obj.value("status", json::object());
    if (status.value("phase", "") != phase ||
        status.value("observedGeneration", int64_t{-1}) != md.value("generation", int64_t{0}))
      return;
    record(current_, runtime::object_key(obj));
  }

  void child(const std::string& kind, const json& obj) {
    if (in_bench_namespace(obj)) record(children_, kind + "/" + runtime::object_key(obj));
  }

  // Waits until 2N statuses are current and 6N children exist (5 per Workspace, 1 Job per
  // TrainingJob), or until `deadline`.
  bool wait(double deadline) {
    std::unique_lock lock(mu_);
    while (!done_locked()) {
      double left = deadline - elapsed();
      if (left <= 0) return false;
      cv_.wait_for(lock, std::chrono::duration<double>(std::min(left, 1.0)));
    }
    return true;
  }

  void start() { t0_ = seconds_now(); }
  double elapsed() const { return seconds_now() - t0_; }

  json report() {
    std::lock_guard lock(mu_);
    std::vector<double> ws, tj;
    double last_status = 0, last_child = 0;
    for (const auto& [key, t] : current_) {
      last_status = std::max(last_status, t);
      auto s = sent_.find(key);
      if (s == sent_.end()) continue;
      bool workspace = key.find("/ws-") != std::string::npos;
      (workspace ? ws : tj).push_back(t - s->second);
    }
    for (const auto& [key, t] : children_) last_child = std::max(last_child, t);
    std::vector<double> all = ws;
    all.insert(all.end(), tj.begin(), tj.end());
    auto dist = [](const std::vector<double>& v) {
      return json{{"count", v.size()},
                  {"p50", quantile(v, 0.5)},
                  {"p99", quantile(v, 0.99)},
                  {"max", quantile(v, 1.0)}};
    };
    return {{"statusesCurrent", current_.size()},
            {"childrenSeen", children_.size()},
            {"lastStatusSeconds", last_status},
            {"lastChildSeconds", last_child},
            {"convergedSeconds", std::max(last_status, last_child)},
            {"createToReady",
             {{"workspaces", dist(ws)}, {"trainingjobs", dist(tj)}, {"all", dist(all)}}}};
  }

 private:
  void record(std::unordered_map<std::string, double>& map, const std::string& key) {
    double t = elapsed();
    std::lock_guard lock(mu_);
    if (map.emplace(key, t).second && done_locked()) cv_.notify_all();
  }
  bool done_locked() const {
    return static_cast<int64_t>(current_.size()) >= 2 * n_ &&
           static_cast<int64_t>(children_.size()) >= 6 * n_;
  }

  int64_t n_;
  double t0_ = seconds_now();
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, double> sent_, current_, children_;
};

json workspace_object(int64_t i, int64_t per_namespace) {
  return {
      {"apiVersion", "remotecode.dev/v1alpha1"},
      {"kind", "Workspace"},
      {"metadata", {{"name", workspace_name(i)}, {"namespace", bench_namespace(i, per_namespace)}}},
      {"spec",
       {{"template", kTemplate},
        {"owner", "user-" + std::to_string(i / per_namespace)},
        {"running", true}}}};
}

// A one-container run whose pod the simulator's pod script ends at once with exit code 0.
json trainingjob_object(int64_t i, int64_t per_namespace) {
  return {{"apiVersion", "remotecode.dev/v1alpha1"},
          {"kind", "TrainingJob"},
          {"metadata",
           {{"name", trainingjob_name(i)}, {"namespace", bench_namespace(i, per_namespace)}}},
          {"spec",
           {{"image", "busybox:1.36"},
            {"command", json::array({"sh", "-c", "true"})},
            {"resources", {{"cpu", "100m"}, {"memory", "128Mi"}}}}}};
}

json sim_requests(kube::Client& client, const char* method) {
  kube::HttpRequest req;
  req.method = method;
  req.path = "/sim/requests";
  auto resp = client.request(req, true);
  return resp.body.empty() ? json::object() : json::parse(resp.body);
}

}  // namespace

int run_converge(const Flags& flags) {
  const int64_t n = flags.num("n", 100);
  const int64_t per_ns = flags.num("per-namespace", 10);
  const int threads = static_cast<int>(flags.num("threads", 8));
  const double timeout = flags.real("timeout", 600);
  auto client = connect(flags.kubeconfig(), 0, 1, "rc-bench");

  // Namespaces first: users exist before they ask for workspaces.
  const int64_t namespaces = (n + per_ns - 1) / per_ns;
  int64_t failed = parallel_for(namespaces, threads, [&](int64_t k) {
    json ns = {{"apiVersion", "v1"},
               {"kind", "Namespace"},
               {"metadata", {{"name", kNamespacePrefix + std::to_string(k)}}}};
    client->apply({"", "v1", "namespaces", false}, ns);
  });
  if (failed) throw std::runtime_error("could not create the namespaces");

  Tracker tracker(n);
  std::vector<std::shared_ptr<runtime::Informer>> informers;
  auto watch = [&](const kube::ResourceRef& ref, std::function<void(const json&)> fn) {
    auto inf = std::make_shared<runtime::Informer>(client, ref);
    auto call = [fn](const runtime::ObjectPtr& o) { fn(*o); };
    inf->add_handlers({call, [call](const auto&, const auto& o) { call(o); }, nullptr});
    informers.push_back(inf);
  };
  watch(refs::workspaces(), [&](const json& o) { tracker.primary(o, "Running"); });
  watch(refs::trainingjobs(), [&](const json& o) { tracker.primary(o, "Succeeded"); });
  for (const auto* ref : {&refs::pvcs(), &refs::deployments(), &refs::services(),
                          &refs::ingresses(), &refs::networkpolicies(), &refs::jobs()}) {
    std::string kind = ref->resource;
    watch(*ref, [&tracker, kind](const json& o) { tracker.child(kind, o); });
  }
  for (auto& inf : informers) inf->start();
  for (auto& inf : informers)
    if (!inf->wait_for_sync(std::chrono::seconds(60)))
      throw std::runtime_error("watch of " + inf->ref().resource + " did not sync");

  sim_requests(*client, "DELETE");
  tracker.start();
  // Interleaved, so Workspaces and TrainingJobs arrive together as a burst of 2N.
  failed = parallel_for(2 * n, threads, [&](int64_t k) {
    int64_t i = k / 2;
    bool ws = k % 2 == 0;
    json obj = ws ? workspace_object(i, per_ns) : trainingjob_object(i, per_ns);
    tracker.sent(obj["metadata"]["namespace"].get<std::string>() + "/" +
                     obj["metadata"]["name"].get<std::string>(),
                 tracker.elapsed());
    client->create(ws ? refs::workspaces() : refs::trainingjobs(), obj["metadata"]["namespace"],
                   obj);
  });
  double burst = tracker.elapsed();
  bool converged = tracker.wait(timeout);
  json requests = sim_requests(*client, "GET");

  json out = tracker.report();
  out["n"] = n;
  out["perNamespace"] = per_ns;
  out["createThreads"] = threads;
  out["createErrors"] = failed;
  out["burstSeconds"] = burst;
  out["converged"] = converged;
  out["requests"] = requests;
  write_json(flags.str("out", "-"), out);
  // Stopping eight watches one after another takes seconds (each notices its cancel within a
  // second); nothing is left to flush, so leave at once.
  std::cout.flush();
  std::_Exit(converged && failed == 0 ? 0 : 1);
}

}  // namespace rc::bench

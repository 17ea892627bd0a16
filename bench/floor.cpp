// `rc-bench floor`: the least a controller must do to converge the bench's burst, with the
// operator's client (same rate limit, same worker count) and the operator's own render functions
// (same bytes). Per Workspace: server-side apply of the home PVC, Deployment, Service, Ingress and
// NetworkPolicy, then one status write once its pod is Ready. Per TrainingJob: one apply of its
// Job (not suspended: no queue), then one status write once the Job is Complete. Nothing else:
// no Events, no intermediate phases, no admission pass. Runs until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "commands.h"
#include "common.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/controllers/workspace_render.h"
#include "remotecode/runtime/informer.h"
#include "remotecode/runtime/work_queue.h"

namespace rc::bench {

using nlohmann::json;
namespace refs = controllers::refs;

namespace {

bool condition_true(const json& obj, const char* type) {
  for (const auto& c : obj.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  return false;
}

// The Workspace or TrainingJob a child belongs to, from the labels every child carries.
std::string owner_key(const json& child) {
  const json& md = child.at("metadata");
  return md.value("namespace", "") + "/" +
         md.value("labels", json::object()).value(controllers::kNameLabel, "");
}

json with_kind(json obj, const char* kind) {
  obj["apiVersion"] = api::kApiVersion;
  obj["kind"] = kind;
  return obj;
}

// A set of keys shared between the watch threads and the workers.
class KeySet {
 public:
  bool insert(const std::string& k) {
    std::lock_guard lock(mu_);
    return keys_.insert(k).second;
  }
  bool contains(const std::string& k) const {
    std::lock_guard lock(mu_);
    return keys_.count(k) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> keys_;
};

class Floor {
 public:
  Floor(std::shared_ptr<kube::Client> client, json tpl)
      : client_(std::move(client)), template_(std::move(tpl)) {
    runtime::InformerOptions ws_pods, tj_jobs;
    ws_pods.label_selector = std::string(controllers::kKindLabel) + "=workspace";
    tj_jobs.label_selector = std::string(controllers::kKindLabel) + "=trainingjob";
    workspaces_ = std::make_shared<runtime::Informer>(client_, refs::workspaces());
    trainingjobs_ = std::make_shared<runtime::Informer>(client_, refs::trainingjobs());
    pods_ = std::make_shared<runtime::Informer>(client_, refs::pods(), ws_pods);
    jobs_ = std::make_shared<runtime::Informer>(client_, refs::jobs(), tj_jobs);

    auto on = [](std::function<void(const json&)> fn) {
      auto call = [fn](const runtime::ObjectPtr& o) { fn(*o); };
      return runtime::EventHandlers{call, [call](const auto&, const auto& o) { call(o); }, nullptr};
    };
    workspaces_->add_handlers(on([this](const json& o) { ws_queue_.add(runtime::object_key(o)); }));
    trainingjobs_->add_handlers(
        on([this](const json& o) { tj_queue_.add(runtime::object_key(o)); }));
    pods_->add_handlers(on([this](const json& pod) {
      if (condition_true(pod, "Ready") && pod_ready_.insert(owner_key(pod)))
        ws_queue_.add(owner_key(pod));
    }));
    jobs_->add_handlers(on([this](const json& job) {
      if (condition_true(job, "Complete") && job_complete_.insert(owner_key(job)))
        tj_queue_.add(owner_key(job));
    }));
  }

  void start(int workers) {
    for (auto* inf : {&workspaces_, &trainingjobs_, &pods_, &jobs_}) (*inf)->start();
    for (auto* inf : {&workspaces_, &trainingjobs_, &pods_, &jobs_})
      if (!(*inf)->wait_for_sync(std::chrono::seconds(60)))
        throw std::runtime_error("watch of " + (*inf)->ref().resource + " did not sync");
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this] { work(ws_queue_, [this](auto& k) { workspace(k); }); });
      threads_.emplace_back([this] { work(tj_queue_, [this](auto& k) { trainingjob(k); }); });
    }
  }

  // Stops the workers; the watches end with the process.
  void stop() {
    ws_queue_.shutdown();
    tj_queue_.shutdown();
    for (auto& t : threads_) t.join();
  }

  json report() const { return {{"writes", writes_.load()}, {"errors", errors_.load()}}; }

 private:
  void work(runtime::WorkQueue& queue, const std::function<void(const std::string&)>& fn) {
    while (auto key = queue.get()) {
      try {
        fn(*key);
        queue.forget(*key);
      } catch (const std::exception& e) {
        if (errors_++ == 0) std::cerr << "rc-bench floor: " << *key << ": " << e.what() << "\n";
        queue.add_rate_limited(*key);
      }
      queue.done(*key);
    }
  }

  void write(const std::function<void()>& fn) {
    fn();
    ++writes_;
  }

  void workspace(const std::string& key) {
    runtime::ObjectPtr cached = workspaces_->store().get(key);
    if (!cached) return;
    json ws = with_kind(*cached, "Workspace");
    if (!applied_ws_.contains(key)) {
      auto r = controllers::workspace::resolve_workspace(ws, &template_, false);
      if (!r.input) throw std::runtime_error("cannot render: " + r.blocker->message);
      auto c = controllers::workspace::render_children(ws, *r.input, config_);
      write([&] { client_->apply(refs::pvcs(), c.home_claim); });
      write([&] { client_->apply(refs::deployments(), c.deployment); });
      write([&] { client_->apply(refs::services(), c.service); });
      write([&] { client_->apply(refs::ingresses(), c.ingress); });
      write([&] { client_->apply(refs::networkpolicies(), c.network_policy); });
      applied_ws_.insert(key);
    }
    if (pod_ready_.contains(key) && !status_ws_.contains(key)) {
      ws["status"] = {{"phase", "Running"}, {"observedGeneration", ws["metadata"]["generation"]}};
      write([&] { client_->update_status(refs::workspaces(), ws); });
      status_ws_.insert(key);
    }
  }

  void trainingjob(const std::string& key) {
    runtime::ObjectPtr cached = trainingjobs_->store().get(key);
    if (!cached) return;
    json tj = with_kind(*cached, "TrainingJob");
    if (!applied_tj_.contains(key)) {
      controllers::trainingjob::RenderInput in;
      in.spec = api::parse_trainingjob(tj);
      in.resources = in.spec.resources;
      in.image = in.spec.image;
      json job = controllers::trainingjob::render_run_job(
          tj, in, api::sweep_combinations(in.spec)[0], config_);
      job["spec"]["suspend"] = false;
      write([&] { client_->apply(refs::jobs(), job); });
      applied_tj_.insert(key);
    }
    if (job_complete_.contains(key) && !status_tj_.contains(key)) {
      tj["status"] = {{"phase", "Succeeded"}, {"observedGeneration", tj["metadata"]["generation"]}};
      write([&] { client_->update_status(refs::trainingjobs(), tj); });
      status_tj_.insert(key);
    }
  }

  std::shared_ptr<kube::Client> client_;
  json template_;
  controllers::OperatorConfig config_;  // the operator's defaults, as the bench runs it
  std::shared_ptr<runtime::Informer> workspaces_, trainingjobs_, pods_, jobs_;
  runtime::WorkQueue ws_queue_, tj_queue_;
  KeySet pod_ready_, job_complete_, applied_ws_, applied_tj_, status_ws_, status_tj_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> writes_{0}, errors_{0};
};

}  // namespace

int run_floor(const Flags& flags) {
  // Signals are waited for below; every thread started afterwards inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto client = connect(flags.kubeconfig(), flags.real("kube-qps", 20),
                        static_cast<int>(flags.num("kube-burst", 30)), "rc-bench-floor");
  json tpl = client->get(refs::templates(), "", kTemplate);
  Floor floor(client, with_kind(tpl, "Template"));
  floor.start(static_cast<int>(flags.num("workers", 2)));
  std::cout << "rc-bench floor: ready" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  floor.stop();
  write_json(flags.str("out", "-"), floor.report());
  // Stopping four watches one after another takes seconds (each notices its cancel within a
  // second); nothing is left to flush, so leave at once.
  std::cout.flush();
  std::_Exit(0);
}

}  // namespace rc::bench

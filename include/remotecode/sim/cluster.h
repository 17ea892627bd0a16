// The simulated cluster behind the API: nodes with GPUs, a scheduler, a kubelet that runs
// pods by script (annotations), and the controllers whose status a client waits for
// (Deployments, Jobs, namespaces, garbage collection, PVCs, Ingresses, quotas, CRD cleanup).
// One thread follows the store's change history and reconciles what changed, like the
// controllers of a real control plane, so status arrives asynchronously, as it does there.
#pragma once
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "remotecode/sim/api.h"
#include "remotecode/sim/api_server.h"
#include "remotecode/sim/pod_scripts.h"

namespace rc::sim {

// Annotations on a pod (or a pod template) that script what the simulated kubelet does.
namespace annotations {
inline constexpr const char* kStartSeconds = "sim.remotecode.dev/start-seconds";
inline constexpr const char* kRunSeconds = "sim.remotecode.dev/run-seconds";
inline constexpr const char* kExitCode = "sim.remotecode.dev/exit-code";
inline constexpr const char* kLog = "sim.remotecode.dev/log";
inline constexpr const char* kFailAttempts = "sim.remotecode.dev/fail-attempts";
inline constexpr const char* kWaitingReason = "sim.remotecode.dev/waiting-reason";
inline constexpr const char* kNotReady = "sim.remotecode.dev/not-ready";
}  // namespace annotations

struct ClusterOptions {
  int gpu_nodes = 2;
  int gpus_per_node = 4;
  int cpu_nodes = 1;
  std::string gpu_product = "NVIDIA-A100-SXM4-80GB";
  double pod_start_seconds = 0.5;   // bound -> Running, unless the pod's annotation says otherwise
  double job_backoff_seconds = 10;  // first delay before a failed Job pod is replaced (doubles)
  std::string root_ca_pem;          // published in every namespace as ConfigMap kube-root-ca.crt
  // How long an unscripted Job pod runs before it succeeds; negative: until deleted. A real
  // program ends; KWOK's default stages end Job pods after a few seconds too.
  double job_run_seconds = -1;
};

class Cluster {
 public:
  // `scripts` (may be null) annotates the pods Deployments and Jobs create.
  Cluster(Api& api, ClusterOptions options, const PodScripts* scripts = nullptr);
  ~Cluster();
  // Creates the built-in namespaces and the nodes, then starts the control loop.
  void start();
  void stop();
  std::string pod_log(const LogRequest& req);
  void follow_pod_log(const LogRequest& req, const std::function<bool(const std::string&)>& write);

 private:
  using Clock = std::chrono::steady_clock;
  struct BoundPod {
    std::string node;
    std::map<std::string, double> requests;
  };
  struct LogLine {
    Clock::time_point at;
    std::string wall_time;
    std::string text;
  };

  void loop();
  void dispatch(const Change& c);
  void after(double seconds, const std::string& kind, const std::string& key);
  void run_due_timers();

  void bootstrap();
  // controllers (cluster_*.cpp)
  void reconcile_namespace(const std::string& name);
  void garbage_collect_deleted(const std::string& uid);
  void garbage_collect_owner(const std::string& storage_id, const std::string& key);
  void check_dangling_owners(const std::string& storage_id, const std::string& key);
  void reconcile_pvc(const std::string& key);
  void reconcile_ingress(const std::string& key);
  void reconcile_quota_namespace(const std::string& ns);
  void reconcile_crd(const std::string& name);
  void schedule_pending();
  void reconcile_pod(const std::string& key);
  // The exit code a scripted pod's run ends with (annotations exit-code and fail-attempts).
  int scripted_exit_code(const nlohmann::json& pod);
  // Keeps the pod's scripted log lines, timed from when its container started.
  // The pod's run-seconds annotation, else options_.job_run_seconds for a Job's pod, else -1.
  double run_seconds(const nlohmann::json& pod) const;
  void script_logs(const nlohmann::json& pod, const std::string& key, Clock::time_point started,
                   std::chrono::system_clock::time_point started_wall);
  // For objects restored from a state file: what the kubelet kept in memory (run timers, logs,
  // pod IPs handed out), rebuilt from the stored pods.
  void resume_pods(const std::vector<Change>& restored);
  void reconcile_deployment(const std::string& key);
  void reconcile_job(const std::string& key);

  void release_tracking_finalizers(const std::vector<nlohmann::json>& pods);
  void track_bound(const std::string& key, const nlohmann::json* pod);
  bool write_status(const char* plural, const std::string& group, nlohmann::json obj,
                    const std::string& manager);
  void create_pod_for(const nlohmann::json& owner, const std::string& owner_kind,
                      const nlohmann::json& template_spec, const std::string& name,
                      const std::map<std::string, std::string>& extra_labels,
                      const std::map<std::string, std::string>& extra_annotations,
                      const std::vector<std::pair<std::string, std::string>>& extra_env,
                      const std::string& hostname);
  // A core/v1 Event about `obj`, once per distinct message (the simulator does not aggregate).
  void record_event(const nlohmann::json& obj, const std::string& kind, const std::string& type,
                    const std::string& reason, const std::string& message,
                    const std::string& component);
  void delete_object(const char* plural, const std::string& group, const nlohmann::json& obj,
                     const char* propagation, std::optional<int64_t> grace = std::nullopt);
  ObjPtr get(const std::string& storage_id, const std::string& key);
  ResourceTypePtr type(const std::string& group, const char* plural);
  ResourceTypePtr type_of_events();

  Api& api_;
  ClusterOptions options_;
  const PodScripts* scripts_ = nullptr;
  std::atomic<bool> running_{false};
  std::thread thread_;
  uint64_t pos_ = 0;
  std::multimap<Clock::time_point, std::pair<std::string, std::string>> timers_;
  std::set<std::string> dirty_pods_, dirty_deployments_, dirty_jobs_, dirty_namespaces_,
      dirty_pvcs_, dirty_ingresses_, dirty_quota_ns_, dirty_crds_, gc_deleted_uids_, gc_owner_keys_,
      dangling_checks_;
  std::set<std::string> pending_pods_;
  bool reschedule_ = false;
  std::map<std::string, BoundPod> bound_;  // pod key -> node and requests
  std::map<std::string, std::map<std::string, double>> node_allocatable_;
  std::map<std::string, nlohmann::json> node_objects_;
  std::mutex logs_mu_;
  std::map<std::string, std::vector<LogLine>> logs_;  // pod uid -> lines
  std::map<std::string, std::string> pod_uid_by_key_;
  uint32_t next_pod_ip_ = 2;
  struct ScriptedExit {
    int code = 0;
    Clock::time_point at;
  };
  std::map<std::string, ScriptedExit> exit_codes_;  // pod uid -> how and when its run ends
  // pod key -> when its containers start (startTime has whole seconds only)
  std::map<std::string, Clock::time_point> pod_starts_at_;
  // job uid -> (failures seen, no replacement pods before this time)
  std::map<std::string, std::pair<int64_t, Clock::time_point>> job_backoff_;
  std::set<std::string> reported_events_;  // object uid + reason + message already recorded
};

}  // namespace rc::sim

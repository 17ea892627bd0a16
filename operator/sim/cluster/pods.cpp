// The scheduler and the kubelet of the simulated cluster.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <thread>

#include "remotecode/kube/quantity.h"
#include "remotecode/kube/selector.h"
#include "remotecode/sim/cluster.h"
#include "remotecode/util/clock.h"

namespace rc::sim {

using nlohmann::json;

namespace {

std::map<std::string, double> pod_requests(const json& pod) {
  std::map<std::string, double> req;
  for (const auto& c : pod["spec"].value("containers", json::array()))
    for (const json items_src =
             c.value("resources", json::object()).value("requests", json::object());
         const auto& [name, q] : items_src.items())
      if (auto v = kube::parse_quantity(q)) req[name] += *v;
  req["pods"] += 1;
  return req;
}

bool terminal(const json& pod) {
  std::string phase = pod["status"].value("phase", "");
  return phase == "Succeeded" || phase == "Failed";
}

bool tolerates(const json& tolerations, const json& taint) {
  for (const auto& t : tolerations) {
    std::string op = t.value("operator", "Equal");
    std::string effect = t.value("effect", "");
    if (!effect.empty() && effect != taint.value("effect", "")) continue;
    std::string key = t.value("key", "");
    if (key.empty() && op == "Exists") return true;
    if (key != taint.value("key", "")) continue;
    if (op == "Exists" || t.value("value", "") == taint.value("value", "")) return true;
  }
  return false;
}

bool node_affinity_ok(const json& pod, const json& labels) {
  auto terms = pod["spec"]
                   .value("affinity", json::object())
                   .value("nodeAffinity", json::object())
                   .value("requiredDuringSchedulingIgnoredDuringExecution", json::object())
                   .value("nodeSelectorTerms", json::array());
  if (terms.empty()) return true;
  for (const auto& term : terms) {
    json sel = {{"matchExpressions", term.value("matchExpressions", json::array())}};
    for (auto& e : sel["matchExpressions"]) {
      std::string op = e.value("operator", "");
      if (op == "Gt" || op == "Lt") return true;  // not modelled: accept
    }
    try {
      if (kube::LabelSelector::from_json(sel).matches(labels)) return true;
    } catch (const std::exception&) {
    }
  }
  return false;
}

std::string annotation(const json& pod, const char* name) {
  return pod["metadata"].value("annotations", json::object()).value(name, "");
}

double annotation_seconds(const json& pod, const char* name, double fallback) {
  std::string v = annotation(pod, name);
  if (v.empty()) return fallback;
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    return fallback;
  }
}

bool owned_by_job(const json& pod) {
  for (const auto& o : pod["metadata"].value("ownerReferences", json::array()))
    if (o.value("kind", "") == "Job") return true;
  return false;
}

// $(VAR) from the container's env (value or the fieldRefs the kubelet resolves).
std::string expand_env(const std::string& text, const json& pod, const json& container) {
  std::map<std::string, std::string> env;
  for (const auto& e : container.value("env", json::array())) {
    std::string name = e.value("name", "");
    if (e.contains("value")) {
      env[name] = e["value"].is_string() ? e["value"].get<std::string>() : e["value"].dump();
    } else if (e.contains("valueFrom") && e["valueFrom"].contains("fieldRef")) {
      std::string path = e["valueFrom"]["fieldRef"].value("fieldPath", "");
      std::smatch m;
      static const std::regex sub(R"(metadata\.(labels|annotations)\['([^']+)'\])");
      if (std::regex_match(path, m, sub)) {
        env[name] = pod["metadata"].value(m[1].str(), json::object()).value(m[2].str(), "");
      } else {
        env[name] = kube::field_value(pod, path);
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(') {
      auto close = text.find(')', i);
      if (close != std::string::npos) {
        std::string var = text.substr(i + 2, close - i - 2);
        auto it = env.find(var);
        if (it != env.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// containerStatuses[].volumeMounts, as the kubelet reports them.
json status_mounts(const json& container) {
  json out = json::array();
  for (const auto& m : container.value("volumeMounts", json::array())) {
    json e = {{"name", m.value("name", "")}, {"mountPath", m.value("mountPath", "")}};
    if (m.value("readOnly", false)) {
      e["readOnly"] = true;
      e["recursiveReadOnly"] = "Disabled";
    }
    out.push_back(e);
  }
  return out;
}

json condition(const std::string& type, bool status, const std::string& now,
               const std::string& reason = "", const std::string& message = "") {
  json c = {{"type", type},
            {"status", status ? "True" : "False"},
            {"lastProbeTime", nullptr},
            {"lastTransitionTime", now}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

void Cluster::track_bound(const std::string& key, const json* pod) {
  if (!pod) {
    bound_.erase(key);
    return;
  }
  const auto& spec = (*pod)["spec"];
  std::string node = spec.value("nodeName", "");
  bool deleting = (*pod)["metadata"].contains("deletionTimestamp");
  if (!node.empty() && !terminal(*pod)) {
    bound_[key] = {node, pod_requests(*pod)};
  } else {
    if (bound_.erase(key)) reschedule_ = true;
  }
  if (node.empty() && !deleting)
    pending_pods_.insert(key);
  else
    pending_pods_.erase(key);
}

void Cluster::schedule_pending() {
  reschedule_ = false;
  std::vector<ObjPtr> nodes;
  {
    std::lock_guard lk(api_.store().mutex());
    nodes = api_.store().list("/nodes", "");
  }
  std::map<std::string, std::map<std::string, double>> used;
  for (const auto& [k, b] : bound_)
    for (const auto& [r, v] : b.requests) used[b.node][r] += v;
  std::string now = util::now_rfc3339();
  for (const auto& key : std::set<std::string>(pending_pods_)) {
    ObjPtr pod = get("/pods", key);
    if (!pod || !(*pod)["spec"].value("nodeName", "").empty() ||
        (*pod)["metadata"].contains("deletionTimestamp")) {
      pending_pods_.erase(key);
      continue;
    }
    auto req = pod_requests(*pod);
    json selector = (*pod)["spec"].value("nodeSelector", json::object());
    json tolerations = (*pod)["spec"].value("tolerations", json::array());
    std::map<std::string, int> reasons;
    std::string chosen;
    for (const auto& n : nodes) {
      const auto& md = (*n)["metadata"];
      std::string name = md.value("name", "");
      json labels = md.value("labels", json::object());
      if ((*n)["spec"].value("unschedulable", false)) {
        ++reasons["node(s) were unschedulable"];
        continue;
      }
      bool taint_ok = true;
      for (const auto& t : (*n)["spec"].value("taints", json::array())) {
        if (t.value("effect", "") == "PreferNoSchedule") continue;
        if (!tolerates(tolerations, t)) {
          ++reasons["node(s) had untolerated taint {" + t.value("key", "") + ": " +
                    t.value("value", "") + "}"];
          taint_ok = false;
          break;
        }
      }
      if (!taint_ok) continue;
      bool sel_ok = true;
      for (auto& [k, v] : selector.items())
        if (labels.value(k, "") != v) sel_ok = false;
      if (!sel_ok || !node_affinity_ok(*pod, labels)) {
        ++reasons["node(s) didn't match Pod's node affinity/selector"];
        continue;
      }
      auto alloc = (*n)["status"].value("allocatable", json::object());
      bool fits = true;
      for (const auto& [r, v] : req) {
        double have = 0;
        if (alloc.contains(r))
          have = kube::parse_quantity(alloc[r]).value_or(0);
        else if (r != "pods" && r != "ephemeral-storage")
          have = 0;
        if (used[name][r] + v > have + 1e-9) {
          ++reasons[r == "pods" ? "Too many pods" : "Insufficient " + r];
          fits = false;
          break;
        }
      }
      if (!fits) continue;
      chosen = name;
      break;
    }
    if (!chosen.empty()) {
      std::lock_guard lk(api_.store().mutex());
      auto cur = api_.store().get("/pods", key);
      if (!cur || !(*cur)["spec"].value("nodeName", "").empty()) continue;
      json obj = *cur;
      obj["spec"]["nodeName"] = chosen;
      json conds = json::array();
      for (const auto& c : obj["status"].value("conditions", json::array()))
        if (c.value("type", "") != "PodScheduled") conds.push_back(c);
      conds.push_back(condition("PodScheduled", true, now));
      obj["status"]["conditions"] = conds;
      api_.store().commit("/pods", std::move(obj), EventType::Modified);
      for (const auto& [r, v] : req) used[chosen][r] += v;
      pending_pods_.erase(key);
      continue;
    }
    // The scheduler's message: "<count> <reason>" sorted as whole strings, then what preemption
    // could do (nothing about taints or selectors; no victims for resources).
    auto histogram = [](const std::map<std::string, int>& counts) {
      std::vector<std::string> parts;
      for (const auto& [r, n] : counts) parts.push_back(std::to_string(n) + " " + r);
      std::sort(parts.begin(), parts.end());
      std::string out;
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
      return out;
    };
    std::map<std::string, int> preemption;
    for (const auto& [r, n] : reasons) {
      bool resource = r.rfind("Insufficient ", 0) == 0 || r == "Too many pods";
      preemption[resource ? "No preemption victims found for incoming pod"
                          : "Preemption is not helpful for scheduling"] += n;
    }
    std::string total = std::to_string(nodes.size());
    std::string msg = "0/" + total + " nodes are available: " + histogram(reasons) +
                      ". preemption: 0/" + total +
                      " nodes are available: " + histogram(preemption) + ".";
    bool same = false;
    for (const auto& c : (*pod)["status"].value("conditions", json::array()))
      if (c.value("type", "") == "PodScheduled" && c.value("message", "") == msg) same = true;
    if (!same) {
      json obj = *pod;
      json conds = json::array({condition("PodScheduled", false, now, "Unschedulable", msg)});
      obj["status"]["conditions"] = conds;
      obj["status"]["phase"] = "Pending";
      if (write_status("pods", "", obj, "kube-scheduler"))
        record_event(*pod, "Pod", "Warning", "FailedScheduling", msg, "default-scheduler");
    }
  }
}

void Cluster::reconcile_pod(const std::string& key) {
  ObjPtr pod = get("/pods", key);
  if (!pod) return;
  const json& p = *pod;
  const auto& md = p["metadata"];
  std::string uid = md.value("uid", "");
  if (md.contains("deletionTimestamp")) {
    // The kubelet stops the containers and lets the pod go.
    if (md.value("finalizers", json::array()).empty()) delete_object("pods", "", p, nullptr, 0);
    return;
  }
  std::string node = p["spec"].value("nodeName", "");
  if (node.empty() || terminal(p)) return;
  auto now_tp = Clock::now();
  std::string now = util::now_rfc3339();
  json st = p.value("status", json::object());
  std::string phase = st.value("phase", "Pending");
  const json containers = p["spec"].value("containers", json::array());

  if (phase == "Pending" && !st.contains("startTime")) {
    json obj = p;
    auto& s = obj["status"];
    s["startTime"] = now;
    s["hostIP"] = "10.0.0.1";
    s["hostIPs"] = json::array({{{"ip", "10.0.0.1"}}});
    json css = json::array();
    for (const auto& c : containers)
      css.push_back({{"name", c.value("name", "")},
                     {"image", c.value("image", "")},
                     {"imageID", ""},
                     {"ready", false},
                     {"restartCount", 0},
                     {"started", false},
                     {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}},
                     {"lastState", json::object()}});
    s["containerStatuses"] = css;
    json conds = json::array(
        {condition("PodReadyToStartContainers", false, now), condition("Initialized", true, now),
         condition("Ready", false, now, "ContainersNotReady",
                   "containers with unready status: [" +
                       std::string(containers.size() ? containers[0].value("name", "") : "") + "]"),
         condition("ContainersNotReady", false, now), condition("PodScheduled", true, now)});
    conds[3]["type"] = "ContainersReady";
    s["conditions"] = conds;
    if (write_status("pods", "", obj, "kubelet")) {
      std::lock_guard lk(logs_mu_);
      pod_uid_by_key_[key] = uid;
    }
    double delay = annotation_seconds(p, annotations::kStartSeconds, options_.pod_start_seconds);
    pod_starts_at_[key] = now_tp + std::chrono::microseconds(static_cast<int64_t>(delay * 1e6));
    after(delay, "pod", key);
    return;
  }
  if (phase == "Pending") {
    // Any change to the pod brings it here; its containers start only when their time has come.
    // A pod without an entry (the simulator restarted) starts now.
    if (auto due = pod_starts_at_.find(key); due != pod_starts_at_.end()) {
      if (now_tp < due->second) {
        after(std::chrono::duration<double>(due->second - now_tp).count(), "pod", key);
        return;
      }
      pod_starts_at_.erase(due);
    }
    std::string waiting = annotation(p, annotations::kWaitingReason);
    if (!waiting.empty()) {
      json obj = p;
      bool changed = false;
      for (auto& cs : obj["status"]["containerStatuses"]) {
        if (cs["state"].value("waiting", json::object()).value("reason", "") != waiting) {
          cs["state"] = {{"waiting", {{"reason", waiting}, {"message", "simulated: " + waiting}}}};
          changed = true;
        }
      }
      if (changed) write_status("pods", "", obj, "kubelet");
      return;
    }
    int exit_code = scripted_exit_code(p);
    json obj = p;
    auto& s = obj["status"];
    s["phase"] = "Running";
    std::string ip = "10.244." + std::to_string((next_pod_ip_ >> 8) & 255) + "." +
                     std::to_string(next_pod_ip_ & 255);
    ++next_pod_ip_;
    s["podIP"] = ip;
    s["podIPs"] = json::array({{{"ip", ip}}});
    bool ready = annotation(p, annotations::kNotReady).empty();
    json css = json::array();
    for (const auto& c : containers)
      css.push_back({{"name", c.value("name", "")},
                     {"image", c.value("image", "")},
                     {"volumeMounts", status_mounts(c)},
                     {"imageID", c.value("image", "") + "@sha256:" + std::string(64, '0')},
                     {"containerID", "containerd://" + uid.substr(0, 8) + c.value("name", "")},
                     {"ready", ready},
                     {"restartCount", 0},
                     {"started", true},
                     {"state", {{"running", {{"startedAt", now}}}}},
                     {"lastState", json::object()}});
    s["containerStatuses"] = css;
    if (p["spec"].contains("initContainers")) {
      json ics = json::array();
      for (const auto& c : p["spec"]["initContainers"])
        ics.push_back({{"name", c.value("name", "")},
                       {"image", c.value("image", "")},
                       {"imageID", ""},
                       {"ready", true},
                       {"restartCount", 0},
                       {"started", false},
                       {"state",
                        {{"terminated",
                          {{"exitCode", 0},
                           {"reason", "Completed"},
                           {"startedAt", now},
                           {"finishedAt", now}}}}},
                       {"lastState", json::object()}});
      s["initContainerStatuses"] = ics;
    }
    s["conditions"] = json::array(
        {condition("PodReadyToStartContainers", true, now), condition("Initialized", true, now),
         condition("Ready", ready, now), condition("ContainersReady", ready, now),
         condition("PodScheduled", true, now)});
    if (!write_status("pods", "", obj, "kubelet")) {
      after(0.05, "pod", key);
      return;
    }
    double run = run_seconds(p);
    std::string restart = p["spec"].value("restartPolicy", "Always");
    script_logs(p, key, now_tp, std::chrono::system_clock::now());
    if (run >= 0 && restart != "Always") {
      // Remember the outcome on the timer key: the pod itself only knows it is running.
      exit_codes_[uid] = {exit_code,
                          now_tp + std::chrono::microseconds(static_cast<int64_t>(run * 1e6))};
      after(run, "pod", key);
    }
    return;
  }
  if (phase == "Running") {
    auto it = exit_codes_.find(uid);
    if (it == exit_codes_.end()) return;
    if (Clock::now() < it->second.at) {
      after(std::chrono::duration<double>(it->second.at - Clock::now()).count() + 0.001, "pod",
            key);
      return;
    }
    std::string started_at;
    if (!st.value("containerStatuses", json::array()).empty())
      started_at = st["containerStatuses"][0]["state"]
                       .value("running", json::object())
                       .value("startedAt", "");
    int code = it->second.code;
    json obj = p;
    auto& s = obj["status"];
    s["phase"] = code == 0 ? "Succeeded" : "Failed";
    for (auto& cs : s["containerStatuses"]) {
      cs["ready"] = false;
      cs["started"] = false;
      cs["state"] = {{"terminated",
                      {{"exitCode", code},
                       {"reason", code == 0 ? "Completed" : "Error"},
                       {"startedAt", started_at},
                       {"finishedAt", now},
                       {"containerID", cs.value("containerID", "")}}}};
    }
    const char* why = code == 0 ? "PodCompleted" : "PodFailed";
    s["conditions"] = json::array(
        {condition("PodReadyToStartContainers", false, now), condition("Initialized", true, now),
         condition("Ready", false, now, why), condition("ContainersReady", false, now, why),
         condition("PodScheduled", true, now)});
    if (write_status("pods", "", obj, "kubelet"))
      exit_codes_.erase(uid);
    else
      after(0.05, "pod", key);
  }
}

int Cluster::scripted_exit_code(const json& p) {
  const auto& md = p["metadata"];
  // fail-attempts: the first N pods of the same controller fail.
  std::string fa = annotation(p, annotations::kFailAttempts);
  if (!fa.empty()) {
    int n = std::atoi(fa.c_str());
    std::string ctrl =
        md.value("labels", json::object()).value("batch.kubernetes.io/controller-uid", "");
    int failed = 0;
    std::lock_guard lk(api_.store().mutex());
    for (const auto& o : api_.store().list("/pods", md.value("namespace", "")))
      if ((*o)["metadata"]
                  .value("labels", json::object())
                  .value("batch.kubernetes.io/controller-uid", "") == ctrl &&
          (*o)["status"].value("phase", "") == "Failed")
        ++failed;
    if (failed < n) return 1;
  }
  std::string code = annotation(p, annotations::kExitCode);
  return code.empty() ? 0 : std::atoi(code.c_str());
}

double Cluster::run_seconds(const json& pod) const {
  double scripted = annotation_seconds(pod, annotations::kRunSeconds, -1);
  if (scripted >= 0 || options_.job_run_seconds < 0 || !owned_by_job(pod)) return scripted;
  return options_.job_run_seconds;
}

void Cluster::script_logs(const json& p, const std::string& key, Clock::time_point started,
                          std::chrono::system_clock::time_point started_wall) {
  // Log lines, spread over the run so a follower sees them arrive.
  std::string log_text = annotation(p, annotations::kLog);
  const json containers = p["spec"].value("containers", json::array());
  if (log_text.empty() || containers.empty()) return;
  double run = run_seconds(p);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= log_text.size()) {
    auto nl = log_text.find('\n', start);
    std::string line = log_text.substr(start, nl - start);
    if (!(nl == std::string::npos && line.empty()))
      lines.push_back(expand_env(line, p, containers[0]));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::vector<LogLine> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    double offset =
        run > 0 ? run * static_cast<double>(i + 1) / static_cast<double>(lines.size() + 1) : 0;
    auto delta = std::chrono::microseconds(static_cast<int64_t>(offset * 1e6));
    out.push_back({started + delta, util::rfc3339_micro(started_wall + delta), lines[i]});
  }
  std::string uid = p["metadata"].value("uid", "");
  std::lock_guard lk(logs_mu_);
  logs_[uid] = std::move(out);
  pod_uid_by_key_[key] = uid;
}

void Cluster::resume_pods(const std::vector<Change>& restored) {
  auto now = Clock::now();
  auto now_wall = std::chrono::system_clock::now();
  for (const auto& c : restored) {
    if (c.storage_id != "/pods") continue;
    const json& obj = *c.object;
    const auto& md = obj["metadata"];
    const json status = obj.value("status", json::object());
    std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
    // New pod IPs continue after the ones handed out before.
    unsigned a = 0, b = 0;
    if (std::sscanf(status.value("podIP", "").c_str(), "10.244.%u.%u", &a, &b) == 2)
      next_pod_ip_ = std::max<uint32_t>(next_pod_ip_, ((a << 8) | b) + 1);
    // Running and finished pods: their scripted logs and outcome, timed from when they started.
    std::string phase = status.value("phase", "");
    if (phase != "Running" && phase != "Succeeded" && phase != "Failed") continue;
    const json statuses = status.value("containerStatuses", json::array());
    if (statuses.empty()) continue;
    const json state = statuses[0].value("state", json::object());
    std::string started_at = state.value("running", json::object()).value("startedAt", "");
    if (started_at.empty())
      started_at = state.value("terminated", json::object()).value("startedAt", "");
    auto started_wall = util::parse_rfc3339(started_at);
    if (!started_wall) continue;
    auto started = now - std::chrono::duration_cast<Clock::duration>(now_wall - *started_wall);
    script_logs(obj, key, started, *started_wall);
    double run = run_seconds(obj);
    if (phase == "Running" && run >= 0 && obj["spec"].value("restartPolicy", "Always") != "Always")
      exit_codes_[md.value("uid", "")] = {
          scripted_exit_code(obj),
          started + std::chrono::microseconds(static_cast<int64_t>(run * 1e6))};
  }
}

std::string Cluster::pod_log(const LogRequest& req) {
  ObjPtr pod = get("/pods", object_key(req.namespace_name, req.pod));
  if (!pod) throw not_found(*type("", "pods"), req.pod);
  const json& p = *pod;
  auto containers = p["spec"].value("containers", json::array());
  std::string container = req.container;
  if (container.empty()) {
    if (containers.size() > 1) {
      std::string names;
      for (const auto& c : containers) names += (names.empty() ? "" : " ") + c.value("name", "");
      throw bad_request("a container name must be specified for pod " + req.pod +
                        ", choose one of: [" + names + "]");
    }
    container = containers.empty() ? "" : containers[0].value("name", "");
  }
  bool known = false;
  for (const char* list : {"containers", "initContainers"})
    for (const auto& c : p["spec"].value(list, json::array()))
      if (c.value("name", "") == container) known = true;
  if (!known) throw bad_request("container " + container + " is not valid for pod " + req.pod);
  std::string phase = p["status"].value("phase", "Pending");
  if (phase == "Pending") {
    std::string reason = "ContainerCreating";
    for (const auto& cs : p["status"].value("containerStatuses", json::array()))
      if (cs.value("name", "") == container)
        reason = cs["state"].value("waiting", json::object()).value("reason", reason);
    throw bad_request("container \"" + container + "\" in pod \"" + req.pod +
                      "\" is waiting to start: " + reason);
  }
  if (containers.empty() || containers[0].value("name", "") != container) return "";
  std::vector<std::string> lines;
  {
    std::lock_guard lk(logs_mu_);
    auto it = logs_.find(p["metadata"].value("uid", ""));
    if (it == logs_.end()) return "";
    auto now = Clock::now();
    for (const auto& l : it->second)
      if (l.at <= now || terminal(p))
        lines.push_back(req.timestamps ? l.wall_time + " " + l.text : l.text);
  }
  size_t from = 0;
  if (req.tail_lines && *req.tail_lines >= 0 && static_cast<size_t>(*req.tail_lines) < lines.size())
    from = lines.size() - static_cast<size_t>(*req.tail_lines);
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

void Cluster::follow_pod_log(const LogRequest& req,
                             const std::function<bool(const std::string&)>& write) {
  std::string sent = pod_log(req);
  if (!sent.empty() && !write(sent)) return;
  LogRequest all = req;
  all.tail_lines.reset();
  size_t sent_lines = 0;
  {
    std::string full = pod_log(all);
    sent_lines = static_cast<size_t>(std::count(full.begin(), full.end(), '\n'));
  }
  while (running_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ObjPtr pod = get("/pods", object_key(req.namespace_name, req.pod));
    if (!pod) return;
    std::string full;
    try {
      full = pod_log(all);
    } catch (const StatusError&) {
      return;
    }
    size_t n = 0, pos = 0;
    std::string fresh;
    while (pos < full.size()) {
      auto nl = full.find('\n', pos);
      if (n >= sent_lines) fresh += full.substr(pos, nl - pos + 1);
      ++n;
      pos = nl + 1;
    }
    if (!fresh.empty()) {
      if (!write(fresh)) return;
      sent_lines = n;
    } else if (!write("")) {
      return;
    }
    if (terminal(*pod)) return;
  }
}

}  // namespace rc::sim

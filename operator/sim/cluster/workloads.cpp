// The Deployment and Job controllers of the simulated cluster.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "remotecode/sim/cluster.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::sim {

using nlohmann::json;

namespace {

bool pod_ready(const json& pod) {
  for (const auto& c : pod["status"].value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

std::string phase(const json& pod) {
  return pod["status"].value("phase", "Pending");
}

json set_condition(json conds, const std::string& type, const std::string& status,
                   const std::string& reason, const std::string& message, const std::string& now,
                   bool update_time = false) {
  for (auto& c : conds) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") != status) c["lastTransitionTime"] = now;
    if (c.value("status", "") != status || c.value("reason", "") != reason) {
      if (update_time || c.contains("lastUpdateTime")) c["lastUpdateTime"] = now;
    }
    c["status"] = status;
    c["reason"] = reason;
    c["message"] = message;
    return conds;
  }
  json c = {{"type", type},
            {"status", status},
            {"reason", reason},
            {"message", message},
            {"lastTransitionTime", now}};
  if (update_time) c["lastUpdateTime"] = now;
  conds.push_back(c);
  return conds;
}

std::string condition_status(const json& obj, const std::string& type) {
  for (const auto& c : obj.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value("status", "");
  return "";
}

std::string compress_indexes(const std::set<int>& idx) {
  std::string out;
  auto it = idx.begin();
  while (it != idx.end()) {
    int start = *it, end = *it;
    auto next = std::next(it);
    while (next != idx.end() && *next == end + 1) {
      end = *next;
      ++next;
    }
    if (!out.empty()) out += ",";
    out += start == end ? std::to_string(start) : std::to_string(start) + "-" + std::to_string(end);
    it = next;
  }
  return out;
}

}  // namespace

void Cluster::create_pod_for(const json& owner, const std::string& owner_kind, const json& tmpl,
                             const std::string& name_prefix,
                             const std::map<std::string, std::string>& extra_labels,
                             const std::map<std::string, std::string>& extra_annotations,
                             const std::vector<std::pair<std::string, std::string>>& extra_env,
                             const std::string& hostname) {
  const auto& omd = owner["metadata"];
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  json md = tmpl.value("metadata", json::object());
  md.erase("name");
  md["generateName"] = name_prefix;
  md["namespace"] = omd.value("namespace", "");
  for (const auto& [k, v] : extra_labels) md["labels"][k] = v;
  for (const auto& [k, v] : extra_annotations) md["annotations"][k] = v;
  if (owner_kind == "Job") md["finalizers"] = json::array({"batch.kubernetes.io/job-tracking"});
  md["ownerReferences"] = json::array({{{"apiVersion", owner.value("apiVersion", "")},
                                        {"kind", owner_kind},
                                        {"name", omd.value("name", "")},
                                        {"uid", omd.value("uid", "")},
                                        {"controller", true},
                                        {"blockOwnerDeletion", true}}});
  pod["metadata"] = md;
  json spec = tmpl.value("spec", json::object());
  if (!hostname.empty()) spec["hostname"] = hostname;
  if (!extra_env.empty())
    for (auto& c : spec["containers"]) {
      json env = c.value("env", json::array());
      for (const auto& [k, v] : extra_env) {
        json e = {{"name", k}};
        if (v.rfind("fieldRef:", 0) == 0)
          e["valueFrom"] = {{"fieldRef", {{"fieldPath", v.substr(9)}}}};
        else
          e["value"] = v;
        env.push_back(e);
      }
      c["env"] = env;
    }
  pod["spec"] = spec;
  if (scripts_) scripts_->apply(pod);
  WriteOptions opt;
  opt.field_manager = "kube-controller-manager";
  try {
    api_.create(*type("", "pods"), omd.value("namespace", ""), pod, opt);
  } catch (const StatusError& e) {
    // Like the real controllers: an Event on the owner, then a retry.
    record_event(owner, owner_kind, "Warning", "FailedCreate",
                 std::string("Error creating: ") + e.what(),
                 owner_kind == "Job" ? "job-controller" : "deployment-controller");
    throw;
  }
}

void Cluster::reconcile_deployment(const std::string& key) {
  ObjPtr dep = get("apps/deployments", key);
  if (!dep || (*dep)["metadata"].contains("deletionTimestamp")) return;
  const json& d = *dep;
  const auto& spec = d["spec"];
  int64_t replicas = spec.value("replicas", 1);
  json tmpl = spec.value("template", json::object());
  std::string hash = util::sha256_hex(tmpl.dump()).substr(0, 10);
  std::string uid = d["metadata"].value("uid", "");
  std::vector<json> current, old;
  {
    std::lock_guard lk(api_.store().mutex());
    for (const auto& ref : api_.store().dependents(uid)) {
      if (ref.storage_id != "/pods") continue;
      auto p = api_.store().get(ref.storage_id, ref.key);
      if (!p || (*p)["metadata"].contains("deletionTimestamp")) continue;
      if ((*p)["metadata"].value("labels", json::object()).value("pod-template-hash", "") == hash)
        current.push_back(*p);
      else
        old.push_back(*p);
    }
  }
  bool recreate = spec.value("strategy", json::object()).value("type", "") == "Recreate";
  int64_t ready_current =
      std::count_if(current.begin(), current.end(), [](const json& p) { return pod_ready(p); });
  // Old pods go once the new ones are ready (rolling) or at once (Recreate).
  if (!old.empty() && (recreate || ready_current >= replicas))
    for (const auto& p : old) delete_object("pods", "", p, "Background");
  if (!(recreate && !old.empty())) {
    if (static_cast<int64_t>(current.size()) < replicas) {
      json ptmpl = tmpl;
      for (int64_t i = static_cast<int64_t>(current.size()); i < replicas; ++i) {
        try {
          create_pod_for(d, "Deployment", ptmpl, d["metadata"].value("name", "") + "-" + hash + "-",
                         {{"pod-template-hash", hash}}, {}, {}, "");
        } catch (const StatusError&) {
          after(1.0, "deployment", key);
          break;
        }
      }
    } else if (static_cast<int64_t>(current.size()) > replicas) {
      std::sort(current.begin(), current.end(),
                [](const json& a, const json& b) { return pod_ready(a) < pod_ready(b); });
      for (size_t i = 0; i < current.size() - static_cast<size_t>(replicas); ++i)
        delete_object("pods", "", current[i], "Background");
    }
  }
  // Status from what exists now.
  int64_t total = static_cast<int64_t>(current.size() + old.size());
  int64_t ready = ready_current +
                  std::count_if(old.begin(), old.end(), [](const json& p) { return pod_ready(p); });
  std::string now = util::now_rfc3339();
  json st = d.value("status", json::object());
  json want = st;
  want["observedGeneration"] = d["metadata"].value("generation", 1);
  want["replicas"] = std::min<int64_t>(total, std::max<int64_t>(total, 0));
  want["updatedReplicas"] = static_cast<int64_t>(current.size());
  want["readyReplicas"] = ready;
  want["availableReplicas"] = ready;
  if (ready == 0) want.erase("readyReplicas");
  if (ready == 0) want.erase("availableReplicas");
  int64_t unavailable = std::max<int64_t>(0, replicas - ready);
  if (unavailable > 0)
    want["unavailableReplicas"] = unavailable;
  else
    want.erase("unavailableReplicas");
  if (total == 0) want.erase("replicas");
  if (current.empty()) want.erase("updatedReplicas");
  json conds = st.value("conditions", json::array());
  conds =
      set_condition(conds, "Available", ready >= replicas ? "True" : "False",
                    ready >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    ready >= replicas ? "Deployment has minimum availability."
                                      : "Deployment does not have minimum availability.",
                    now, true);
  std::string rs = d["metadata"].value("name", "") + "-" + hash;
  bool complete = ready_current >= replicas && old.empty();
  std::string prog_reason = complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated";
  std::string prog_msg = complete ? "ReplicaSet \"" + rs + "\" has successfully progressed."
                                  : "ReplicaSet \"" + rs + "\" is progressing.";
  std::string prog_status = "True";
  if (!complete) {
    // Progress deadline: no progress for progressDeadlineSeconds fails the rollout.
    for (const auto& c : conds)
      if (c.value("type", "") == "Progressing") {
        auto t = util::parse_rfc3339(c.value("lastUpdateTime", ""));
        int64_t deadline = spec.value("progressDeadlineSeconds", 600);
        if (c.value("reason", "") == "ProgressDeadlineExceeded" ||
            (t && std::chrono::system_clock::now() - *t > std::chrono::seconds(deadline) &&
             c.value("reason", "") == "ReplicaSetUpdated")) {
          prog_status = "False";
          prog_reason = "ProgressDeadlineExceeded";
          prog_msg = "ReplicaSet \"" + rs + "\" has timed out progressing.";
        }
      }
    if (prog_status == "True")
      after(static_cast<double>(spec.value("progressDeadlineSeconds", 600)) + 0.5, "deployment",
            key);
  }
  conds = set_condition(conds, "Progressing", prog_status, prog_reason, prog_msg, now, true);
  // Keep the conditions in the order the controller writes them.
  std::stable_sort(conds.begin(), conds.end(), [](const json& a, const json& b) {
    return a.value("type", "") == "Available" && b.value("type", "") != "Available";
  });
  want["conditions"] = conds;
  if (want != st) {
    json obj = d;
    obj["status"] = want;
    if (!write_status("deployments", "apps", obj, "kube-controller-manager"))
      after(0.05, "deployment", key);
  }
}

void Cluster::reconcile_job(const std::string& key) {
  ObjPtr job = get("batch/jobs", key);
  if (!job) return;
  const json& j = *job;
  const auto& md = j["metadata"];
  const auto& spec = j["spec"];
  std::string uid = md.value("uid", "");
  std::string now = util::now_rfc3339();
  json st = j.value("status", json::object());
  bool finished =
      condition_status(j, "Complete") == "True" || condition_status(j, "Failed") == "True";
  if (md.contains("deletionTimestamp")) return;

  std::vector<json> pods;
  {
    std::lock_guard lk(api_.store().mutex());
    for (const auto& ref : api_.store().dependents(uid)) {
      if (ref.storage_id != "/pods") continue;
      if (auto p = api_.store().get(ref.storage_id, ref.key)) pods.push_back(*p);
    }
  }
  if (finished) {
    std::vector<json> release;
    for (const auto& p : pods) {
      if (phase(p) != "Succeeded" && phase(p) != "Failed" &&
          !p["metadata"].contains("deletionTimestamp"))
        delete_object("pods", "", p, "Background");
      // Counted when the Job finished: nothing holds its pods any more.
      for (const auto& f : p["metadata"].value("finalizers", json::array()))
        if (f == "batch.kubernetes.io/job-tracking") release.push_back(p);
    }
    release_tracking_finalizers(release);
    if (spec.contains("ttlSecondsAfterFinished")) {
      auto done = util::parse_rfc3339(st.value("completionTime", ""));
      for (const auto& c : st.value("conditions", json::array()))
        if (c.value("type", "") == "Failed" && c.value("status", "") == "True")
          done = util::parse_rfc3339(c.value("lastTransitionTime", ""));
      int64_t ttl = spec.value("ttlSecondsAfterFinished", 0);
      if (done) {
        auto expire = *done + std::chrono::seconds(ttl);
        auto left =
            std::chrono::duration<double>(expire - std::chrono::system_clock::now()).count();
        if (left <= 0)
          delete_object("jobs", "batch", j, "Foreground");
        else
          after(left + 0.05, "job", key);
      }
    }
    return;
  }
  bool indexed = spec.value("completionMode", "NonIndexed") == "Indexed";
  bool suspend = spec.value("suspend", false);
  int64_t parallelism = spec.value("parallelism", 1);
  std::optional<int64_t> completions;
  if (spec.contains("completions") && spec["completions"].is_number())
    completions = spec["completions"].get<int64_t>();
  int64_t backoff = spec.value("backoffLimit", 6);

  // Counting as the 1.32 job controller does: a finished (or deleted) pod still carrying the
  // job-tracking finalizer is counted once, then the finalizer goes.
  static const char* kTracking = "batch.kubernetes.io/job-tracking";
  auto tracked = [](const json& p) {
    for (const auto& f : p["metadata"].value("finalizers", json::array()))
      if (f == kTracking) return true;
    return false;
  };
  std::vector<json> active, to_release;
  int64_t succeeded = st.value("succeeded", 0), failed = st.value("failed", 0), ready = 0,
          terminating = 0;
  std::set<int> done_idx;
  std::set<int> active_idx;
  {
    // completedIndexes survive pod removal.
    std::string prev = st.value("completedIndexes", "");
    size_t pos = 0;
    while (pos < prev.size()) {
      auto comma = prev.find(',', pos);
      std::string part = prev.substr(pos, comma - pos);
      auto dash = part.find('-');
      int a = std::atoi(part.substr(0, dash).c_str());
      int b = dash == std::string::npos ? a : std::atoi(part.substr(dash + 1).c_str());
      for (int i = a; i <= b; ++i) done_idx.insert(i);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  for (const auto& p : pods) {
    std::string ph = phase(p);
    int idx = -1;
    std::string is = p["metadata"]
                         .value("annotations", json::object())
                         .value("batch.kubernetes.io/job-completion-index", "");
    if (!is.empty()) idx = std::atoi(is.c_str());
    bool deleting = p["metadata"].contains("deletionTimestamp");
    if (ph == "Succeeded") {
      if (tracked(p)) {
        if (!indexed || !done_idx.count(idx)) ++succeeded;
        to_release.push_back(p);
      }
      if (idx >= 0) done_idx.insert(idx);
    } else if (ph == "Failed") {
      if (tracked(p)) {
        ++failed;
        to_release.push_back(p);
      }
    } else if (deleting) {
      ++terminating;
      // A pod deleted before it finished failed, unless the Job was suspended.
      if (tracked(p)) {
        if (!suspend) ++failed;
        to_release.push_back(p);
      }
    } else {
      active.push_back(p);
      if (pod_ready(p)) ++ready;
      if (idx >= 0) active_idx.insert(idx);
    }
  }
  if (indexed) succeeded = std::max<int64_t>(succeeded, static_cast<int64_t>(done_idx.size()));
  // Pods that failed delay their replacements: 10 s, 20 s, 40 s... (capped at 6 minutes).
  bool backing_off = false;
  if (failed > 0) {
    auto& b = job_backoff_[uid];
    if (failed > b.first) {
      double delay = options_.job_backoff_seconds *
                     std::pow(2.0, static_cast<double>(std::min<int64_t>(failed - 1, 20)));
      b = {failed, Clock::now() + std::chrono::microseconds(
                                      static_cast<int64_t>(std::min(delay, 360.0) * 1e6))};
    }
    if (Clock::now() < b.second) {
      backing_off = true;
      after(std::chrono::duration<double>(b.second - Clock::now()).count() + 0.01, "job", key);
    }
  }

  json want = st;
  json conds = st.value("conditions", json::array());
  std::string fail_reason, fail_msg;
  if (!suspend && spec.contains("activeDeadlineSeconds") && st.contains("startTime")) {
    auto start = util::parse_rfc3339(st.value("startTime", ""));
    int64_t deadline = spec.value("activeDeadlineSeconds", 0);
    if (start) {
      auto end = *start + std::chrono::seconds(deadline);
      auto left = std::chrono::duration<double>(end - std::chrono::system_clock::now()).count();
      if (left <= 0) {
        fail_reason = "DeadlineExceeded";
        fail_msg = "Job was active longer than specified deadline";
      } else {
        after(left + 0.05, "job", key);
      }
    }
  }
  if (fail_reason.empty() && failed > backoff) {
    fail_reason = "BackoffLimitExceeded";
    fail_msg = "Job has reached the specified backoff limit";
  }
  bool complete = false;
  if (fail_reason.empty()) {
    if (indexed)
      complete = completions && static_cast<int64_t>(done_idx.size()) >= *completions;
    else if (completions)
      complete = succeeded >= *completions;
    else
      complete = succeeded > 0 && active.empty();
  }

  if (!fail_reason.empty()) {
    for (const auto& p : active) delete_object("pods", "", p, "Background", 0);
    failed += static_cast<int64_t>(active.size());  // killed before finishing: failed
    ready = 0;
    conds = set_condition(conds, "FailureTarget", "True", fail_reason, fail_msg, now);
    conds = set_condition(conds, "Failed", "True", fail_reason, fail_msg, now);
    for (auto& c : conds) c["lastProbeTime"] = now;
    want["active"] = 0;
  } else if (complete) {
    conds = set_condition(conds, "SuccessCriteriaMet", "True", "CompletionsReached",
                          "Reached expected number of succeeded pods", now);
    conds = set_condition(conds, "Complete", "True", "CompletionsReached",
                          "Reached expected number of succeeded pods", now);
    for (auto& c : conds) c["lastProbeTime"] = now;
    want["completionTime"] = now;
    want.erase("active");
  } else if (suspend) {
    for (const auto& p : active) delete_object("pods", "", p, "Background", 0);
    active.clear();
    ready = 0;
    if (condition_status(j, "Suspended") != "True") {
      conds = set_condition(conds, "Suspended", "True", "JobSuspended", "Job suspended", now);
      for (auto& c : conds)
        if (c["type"] == "Suspended") c["lastProbeTime"] = now;
    }
    want.erase("startTime");
  } else {
    if (condition_status(j, "Suspended") == "True") {
      conds = set_condition(conds, "Suspended", "False", "JobResumed", "Job resumed", now);
      want["startTime"] = now;
    }
    if (!want.contains("startTime")) want["startTime"] = now;
    // Create the pods still missing, up to parallelism.
    int64_t room = backing_off ? 0 : parallelism - static_cast<int64_t>(active.size());
    std::string name = md.value("name", "");
    if (indexed) {
      for (int64_t i = 0; completions && i < *completions && room > 0; ++i) {
        int idx = static_cast<int>(i);
        if (done_idx.count(idx) || active_idx.count(idx)) continue;
        try {
          create_pod_for(
              j, "Job", spec["template"], name + "-" + std::to_string(idx) + "-",
              {{"batch.kubernetes.io/job-completion-index", std::to_string(idx)}},
              {{"batch.kubernetes.io/job-completion-index", std::to_string(idx)}},
              {{"JOB_COMPLETION_INDEX",
                "fieldRef:metadata.annotations['batch.kubernetes.io/job-completion-index']"}},
              name + "-" + std::to_string(idx));
          --room;
        } catch (const StatusError&) {
          after(1.0, "job", key);
          break;
        }
      }
    } else {
      int64_t remaining =
          completions ? *completions - succeeded : (succeeded > 0 ? 0 : parallelism);
      int64_t want_new = std::min(room, remaining - static_cast<int64_t>(active.size()));
      if (backing_off) want_new = 0;
      for (int64_t i = 0; i < want_new; ++i) {
        try {
          create_pod_for(j, "Job", spec["template"], name + "-", {}, {}, {}, "");
        } catch (const StatusError&) {
          after(1.0, "job", key);
          break;
        }
      }
    }
    want["active"] = static_cast<int64_t>(active.size());
  }
  want["conditions"] = conds;
  if (conds.empty()) want.erase("conditions");
  if (succeeded > 0) want["succeeded"] = succeeded;
  if (failed > 0) want["failed"] = failed;
  want["ready"] = ready;
  want["terminating"] = terminating;
  if (indexed && !done_idx.empty()) want["completedIndexes"] = compress_indexes(done_idx);
  want["uncountedTerminatedPods"] = json::object();
  if (want.contains("active") && want["active"] == 0 && (complete || !fail_reason.empty()))
    want.erase("active");
  if (want != st) {
    json obj = j;
    obj["status"] = want;
    if (!write_status("jobs", "batch", obj, "kube-controller-manager")) {
      after(0.05, "job", key);
      return;  // counted pods keep their finalizer until the counts are stored
    }
  }
  release_tracking_finalizers(to_release);
}

void Cluster::release_tracking_finalizers(const std::vector<json>& pods) {
  WriteOptions opt;
  opt.field_manager = "kube-controller-manager";
  for (const auto& p : pods) {
    json kept = json::array();
    for (const auto& f : p["metadata"].value("finalizers", json::array()))
      if (f != "batch.kubernetes.io/job-tracking") kept.push_back(f);
    json patch = {{"metadata", {{"finalizers", kept.empty() ? json(nullptr) : kept}}}};
    try {
      api_.patch(*type("", "pods"), p["metadata"].value("namespace", ""),
                 p["metadata"].value("name", ""), "application/merge-patch+json", patch.dump(),
                 opt);
    } catch (const StatusError&) {
    }
  }
}

}  // namespace rc::sim

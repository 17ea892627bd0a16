#include "remotecode/sim/table.h"

#include <chrono>

#include "remotecode/util/clock.h"

namespace rc::sim {

using nlohmann::json;

std::string human_duration(int64_t s) {
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  int64_t m = s / 60;
  if (m < 10)
    return s % 60 == 0 ? std::to_string(m) + "m"
                       : std::to_string(m) + "m" + std::to_string(s % 60) + "s";
  if (m < 180) return std::to_string(m) + "m";
  int64_t h = m / 60;
  if (h < 8)
    return m % 60 == 0 ? std::to_string(h) + "h"
                       : std::to_string(h) + "h" + std::to_string(m % 60) + "m";
  if (h < 48) return std::to_string(h) + "h";
  if (h < 24 * 8)
    return h % 24 == 0 ? std::to_string(h / 24) + "d"
                       : std::to_string(h / 24) + "d" + std::to_string(h % 24) + "h";
  if (h < 24 * 365 * 2) return std::to_string(h / 24) + "d";
  if (h < 24 * 365 * 8)
    return std::to_string(h / 24 / 365) + "y" + std::to_string((h / 24) % 365) + "d";
  return std::to_string(h / 24 / 365) + "y";
}

namespace {

std::string since(const std::string& timestamp) {
  auto t = util::parse_rfc3339(timestamp);
  if (!t) return "<unknown>";
  auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *t)
          .count();
  return human_duration(secs);
}

std::string age(const json& obj) {
  return since(obj["metadata"].value("creationTimestamp", ""));
}

json col(const std::string& name, const std::string& type, const std::string& desc,
         int priority = 0, const std::string& format = "") {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", desc},
          {"priority", priority}};
}

std::string join(const json& arr, const std::string& sep = ",") {
  std::string out;
  for (const auto& v : arr) {
    if (!out.empty()) out += sep;
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string condition_status(const json& obj, const std::string& type) {
  for (const auto& c : obj.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value("status", "");
  return "";
}

// The wide columns of workloads: container names, images and the selector.
void add_workload_cells(const json& spec, json& cells) {
  json names = json::array(), images = json::array();
  for (const auto& c : spec.value("template", json::object())
                           .value("spec", json::object())
                           .value("containers", json::array())) {
    names.push_back(c.value("name", ""));
    images.push_back(c.value("image", ""));
  }
  cells.push_back(join(names));
  cells.push_back(join(images));
  std::string sel;
  for (const json items_src =
           spec.value("selector", json::object()).value("matchLabels", json::object());
       const auto& [k, v] : items_src.items())
    sel += (sel.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  cells.push_back(sel);
}

std::string pod_status_reason(const json& pod) {
  if (pod["metadata"].contains("deletionTimestamp")) return "Terminating";
  const auto st = pod.value("status", json::object());
  for (const auto& cs : st.value("containerStatuses", json::array())) {
    auto state = cs.value("state", json::object());
    if (state.contains("waiting") && state["waiting"].contains("reason"))
      return state["waiting"]["reason"];
    if (state.contains("terminated") && st.value("phase", "") != "Succeeded" &&
        st.value("phase", "") != "Failed")
      return state["terminated"].value("reason", "Error");
  }
  if (st.value("phase", "") == "Succeeded") return "Completed";
  if (st.value("phase", "") == "Failed") {
    for (const auto& cs : st.value("containerStatuses", json::array()))
      if (cs.value("state", json::object()).contains("terminated"))
        return cs["state"]["terminated"].value("reason", "Error");
    return "Error";
  }
  return st.value("phase", "Pending");
}

}  // namespace

json table_columns(const ResourceType& rt) {
  std::string name_desc =
      "Name must be unique within a namespace. Is required when creating resources, although some "
      "resources may allow a client to request the generation of an appropriate name "
      "automatically. Name is primarily intended for creation idempotence and configuration "
      "definition. Cannot be updated. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
  json cols = json::array({col("Name", "string", name_desc, 0, "name")});
  const std::string age_desc =
      "CreationTimestamp is a timestamp representing the server time when this object was created.";
  if (rt.custom) {
    auto pcs = rt.crd_version.value("additionalPrinterColumns", json::array());
    if (pcs.empty())
      pcs = json::array(
          {{{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
    for (const auto& pc : pcs)
      cols.push_back(col(pc.value("name", ""), pc.value("type", "string"),
                         pc.value("description", ""), pc.value("priority", 0),
                         pc.value("format", "")));
    return cols;
  }
  const std::string& p = rt.plural;
  if (rt.group.empty() && p == "pods") {
    cols.push_back(
        col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."));
    cols.push_back(col("Status", "string", "The aggregate status of the containers in this pod."));
    cols.push_back(col("Restarts", "string",
                       "The number of times the containers in this pod have been restarted and "
                       "when the last container in this pod has restarted."));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(col("IP", "string",
                       "IP address allocated to the pod. Routable at least within the cluster. "
                       "Empty if not yet allocated.",
                       1));
    cols.push_back(col("Node", "string",
                       "NodeName is a request to schedule this pod onto a specific node.", 1));
    cols.push_back(
        col("Nominated Node", "string",
            "nominatedNodeName is set only when this pod preempts other pods on the node.", 1));
    cols.push_back(col("Readiness Gates", "string",
                       "If specified, all readiness gates will be evaluated for pod readiness.",
                       1));
  } else if (rt.group == "apps" && p == "deployments") {
    cols.push_back(col("Ready", "string", "Number of the pod with ready state"));
    cols.push_back(col("Up-to-date", "string",
                       "Total number of non-terminated pods targeted by this deployment that have "
                       "the desired template spec."));
    cols.push_back(col("Available", "string",
                       "Total number of available pods (ready for at least minReadySeconds) "
                       "targeted by this deployment."));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(col("Containers", "string", "Names of each container in the template.", 1));
    cols.push_back(
        col("Images", "string", "Images referenced by each container in the template.", 1));
    cols.push_back(col("Selector", "string",
                       "Label selector for pods. Existing ReplicaSets whose pods are selected by "
                       "this will be the ones affected by this deployment.",
                       1));
  } else if (rt.group == "batch" && p == "jobs") {
    cols.push_back(col("Status", "string", "Status of the job."));
    cols.push_back(
        col("Completions", "string",
            "The desired number of successfully finished pods the job should be run with."));
    cols.push_back(col("Duration", "string", "Time required to complete the job."));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(col("Containers", "string", "Names of each container in the template.", 1));
    cols.push_back(
        col("Images", "string", "Images referenced by each container in the template.", 1));
    cols.push_back(
        col("Selector", "string", "A label query over pods that should match the pod count.", 1));
  } else if (rt.group.empty() && p == "nodes") {
    cols.push_back(col("Status", "string", "The status of the node"));
    cols.push_back(col("Roles", "string", "The roles of the node"));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(col("Version", "string", "Kubelet Version reported by the node."));
    cols.push_back(col("Internal-IP", "string", "List of addresses reachable to the node.", 1));
    cols.push_back(col("External-IP", "string", "List of addresses reachable to the node.", 1));
    cols.push_back(col(
        "OS-Image", "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        1));
    cols.push_back(
        col("Kernel-Version", "string",
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1));
    cols.push_back(col("Container-Runtime", "string",
                       "ContainerRuntime Version reported by the node through runtime remote API "
                       "(e.g. containerd://1.4.2).",
                       1));
  } else if (rt.group.empty() && p == "services") {
    cols.push_back(col("Type", "string", "The type of service."));
    cols.push_back(col("Cluster-IP", "string", "The cluster IP of the service."));
    cols.push_back(col("External-IP", "string", "The external IP of the service."));
    cols.push_back(col("Port(s)", "string", "The ports of the service."));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(
        col("Selector", "string",
            "Route service traffic to pods with label keys and values matching this selector.", 1));
  } else if (rt.group.empty() && p == "namespaces") {
    cols.push_back(col("Status", "string", "The status of the namespace"));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group.empty() && p == "configmaps") {
    cols.push_back(col("Data", "string", "Data contains the configuration data."));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group.empty() && p == "secrets") {
    cols.push_back(col("Type", "string", "The type of the secret"));
    cols.push_back(col("Data", "string", "The number of data entries in the secret"));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group.empty() && p == "persistentvolumeclaims") {
    cols.push_back(col("Status", "string", "The status of the claim"));
    cols.push_back(col("Volume", "string", "The volume bound to the claim"));
    cols.push_back(col("Capacity", "string", "The capacity of the volume"));
    cols.push_back(col("Access Modes", "string", "The access modes of the volume"));
    cols.push_back(col("StorageClass", "string", "The storage class of the claim"));
    cols.push_back(
        col("VolumeAttributesClass", "string", "The volume attributes class of the claim"));
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(col("VolumeMode", "string", "The volume mode of the claim", 1));
  } else if (rt.group.empty() && p == "serviceaccounts") {
    cols.push_back(col("Secrets", "string",
                       "Secrets is a list of the secrets in the same namespace that pods running "
                       "using this ServiceAccount are allowed to use."));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group.empty() && p == "resourcequotas") {
    cols.push_back(col("Age", "string", age_desc));
    cols.push_back(
        col("Request", "string",
            "Request represents a minimum amount of cpu/memory that a container may consume."));
    cols.push_back(col("Limit", "string",
                       "Limits control the maximum amount of cpu/memory that a container may use "
                       "independent of contention on the node."));
  } else if (p == "events") {
    cols = json::array(
        {col("Last Seen", "string", "Time when last this event was observed."),
         col("Type", "string",
             "Type of this event (Normal, Warning), new types could be added in the future."),
         col("Reason", "string",
             "This should be a short, machine understandable string that gives the reason for this "
             "event being generated."),
         col("Object", "string", "The object this Event is about."),
         col("Message", "string",
             "A human-readable description of the status of this operation.")});
  } else if (rt.group == "coordination.k8s.io" && p == "leases") {
    cols.push_back(col("Holder", "string", "The holder of the lease."));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group == "networking.k8s.io" && p == "ingresses") {
    cols.push_back(
        col("Class", "string", "The name of the IngressClass resource that should be used."));
    cols.push_back(col("Hosts", "string",
                       "Hosts that incoming requests are matched against before the ingress rule"));
    cols.push_back(col("Address", "string",
                       "Address is a list containing ingress points for the load-balancer"));
    cols.push_back(col("Ports", "string", "Ports of TLS configurations that open"));
    cols.push_back(col("Age", "string", age_desc));
  } else if (rt.group == "networking.k8s.io" && p == "networkpolicies") {
    cols.push_back(
        col("Pod-Selector", "string", "Select which pods this network policy applies to."));
    cols.push_back(col("Age", "string", age_desc));
  } else if (p == "customresourcedefinitions") {
    cols.push_back(col("Created At", "date", age_desc));
  } else {
    cols.push_back(col("Age", "string", age_desc));
  }
  return cols;
}

std::vector<json> eval_jsonpath(const json& obj, const std::string& path) {
  std::vector<const json*> cur = {&obj};
  size_t i = 0;
  std::string p = path;
  if (!p.empty() && p.front() == '{' && p.back() == '}') p = p.substr(1, p.size() - 2);
  while (i < p.size()) {
    std::vector<const json*> next;
    if (p[i] == '.') {
      ++i;
      size_t j = i;
      while (j < p.size() && p[j] != '.' && p[j] != '[') ++j;
      std::string field = p.substr(i, j - i);
      i = j;
      if (field.empty()) continue;
      for (const json* c : cur)
        if (c->is_object() && c->contains(field)) next.push_back(&(*c)[field]);
    } else if (p[i] == '[') {
      size_t close = p.find(']', i);
      if (close == std::string::npos) return {};
      std::string inner = p.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inner == "*") {
        for (const json* c : cur)
          if (c->is_array())
            for (const auto& e : *c) next.push_back(&e);
      } else if (inner.rfind("?(@.", 0) == 0) {
        // [?(@.field=="value")]
        std::string expr = inner.substr(4, inner.size() - 5);
        auto eq = expr.find("==");
        if (eq == std::string::npos) return {};
        std::string field = expr.substr(0, eq);
        std::string value = expr.substr(eq + 2);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
          value = value.substr(1, value.size() - 2);
        for (const json* c : cur)
          if (c->is_array())
            for (const auto& e : *c)
              if (e.is_object() && e.contains(field) &&
                  (e[field].is_string() ? e[field].get<std::string>() : e[field].dump()) == value)
                next.push_back(&e);
      } else {
        try {
          long idx = std::stol(inner);
          for (const json* c : cur)
            if (c->is_array()) {
              long n = static_cast<long>(c->size());
              long k = idx < 0 ? n + idx : idx;
              if (k >= 0 && k < n) next.push_back(&(*c)[static_cast<size_t>(k)]);
            }
        } catch (const std::exception&) {
          return {};
        }
      }
    } else {
      // A path without a leading dot: treat as a field.
      p.insert(i, ".");
      continue;
    }
    cur = std::move(next);
  }
  std::vector<json> out;
  for (const json* c : cur) out.push_back(*c);
  return out;
}

json table_row(const ResourceType& rt, const json& obj, const std::string& include_object) {
  const auto& md = obj["metadata"];
  json cells = json::array({md.value("name", "")});
  const auto spec = obj.value("spec", json::object());
  const auto st = obj.value("status", json::object());
  const std::string& p = rt.plural;
  if (rt.custom) {
    auto pcs = rt.crd_version.value("additionalPrinterColumns", json::array());
    if (pcs.empty())
      pcs = json::array(
          {{{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
    for (const auto& pc : pcs) {
      auto vals = eval_jsonpath(obj, pc.value("jsonPath", ""));
      if (vals.empty()) {
        cells.push_back(nullptr);
      } else if (vals.size() == 1 && pc.value("type", "") == "date" && vals[0].is_string()) {
        // As the apiserver's table convertor does: a date column shows how long ago, as AGE does.
        cells.push_back(since(vals[0].get<std::string>()));
      } else if (vals.size() == 1) {
        cells.push_back(vals[0].is_structured() ? json(vals[0].dump()) : vals[0]);
      } else {
        std::string s;
        for (const auto& v : vals)
          s += (s.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
        cells.push_back(s);
      }
    }
  } else if (rt.group.empty() && p == "pods") {
    auto css = st.value("containerStatuses", json::array());
    int ready = 0, restarts = 0;
    for (const auto& cs : css) {
      if (cs.value("ready", false)) ++ready;
      restarts += cs.value("restartCount", 0);
    }
    size_t total = spec.value("containers", json::array()).size();
    cells.push_back(std::to_string(ready) + "/" + std::to_string(total));
    cells.push_back(pod_status_reason(obj));
    cells.push_back(std::to_string(restarts));
    cells.push_back(age(obj));
    cells.push_back(st.value("podIP", "<none>"));
    cells.push_back(spec.value("nodeName", "<none>"));
    cells.push_back(st.value("nominatedNodeName", "<none>"));
    cells.push_back("<none>");
  } else if (rt.group == "apps" && p == "deployments") {
    cells.push_back(std::to_string(st.value("readyReplicas", 0)) + "/" +
                    std::to_string(spec.value("replicas", 1)));
    cells.push_back(st.value("updatedReplicas", 0));
    cells.push_back(st.value("availableReplicas", 0));
    cells.push_back(age(obj));
    add_workload_cells(spec, cells);
  } else if (rt.group == "batch" && p == "jobs") {
    std::string status = "Running";
    if (condition_status(obj, "Complete") == "True")
      status = "Complete";
    else if (condition_status(obj, "Failed") == "True")
      status = "Failed";
    else if (condition_status(obj, "Suspended") == "True")
      status = "Suspended";
    else if (md.contains("deletionTimestamp"))
      status = "Terminating";
    else if (condition_status(obj, "FailureTarget") == "True")
      status = "FailureTarget";
    else if (condition_status(obj, "SuccessCriteriaMet") == "True")
      status = "SuccessCriteriaMet";
    cells.push_back(status);
    std::string completions = spec.contains("completions")
                                  ? std::to_string(st.value("succeeded", 0)) + "/" +
                                        std::to_string(spec.value("completions", 1))
                                  : std::to_string(st.value("succeeded", 0)) + "/1 of " +
                                        std::to_string(spec.value("parallelism", 1));
    cells.push_back(completions);
    std::string duration;
    auto start = util::parse_rfc3339(st.value("startTime", ""));
    if (start) {
      auto end = util::parse_rfc3339(st.value("completionTime", ""));
      auto e = end ? *end : std::chrono::system_clock::now();
      duration =
          human_duration(std::chrono::duration_cast<std::chrono::seconds>(e - *start).count());
    }
    cells.push_back(duration);
    cells.push_back(age(obj));
    add_workload_cells(spec, cells);
  } else if (rt.group.empty() && p == "nodes") {
    std::string ready = condition_status(obj, "Ready") == "True" ? "Ready" : "NotReady";
    if (spec.value("unschedulable", false)) ready += ",SchedulingDisabled";
    cells.push_back(ready);
    cells.push_back("<none>");
    cells.push_back(age(obj));
    auto info = st.value("nodeInfo", json::object());
    cells.push_back(info.value("kubeletVersion", ""));
    std::string internal = "<none>";
    for (const auto& a : st.value("addresses", json::array()))
      if (a.value("type", "") == "InternalIP") internal = a.value("address", "");
    cells.push_back(internal);
    cells.push_back("<none>");
    cells.push_back(info.value("osImage", ""));
    cells.push_back(info.value("kernelVersion", ""));
    cells.push_back(info.value("containerRuntimeVersion", ""));
  } else if (rt.group.empty() && p == "services") {
    cells.push_back(spec.value("type", "ClusterIP"));
    cells.push_back(spec.value("clusterIP", "<none>"));
    std::string ext = "<none>";
    for (const auto& i : st.value("loadBalancer", json::object()).value("ingress", json::array()))
      ext = i.value("ip", i.value("hostname", ext));
    cells.push_back(ext);
    std::string ports;
    for (const auto& pt : spec.value("ports", json::array()))
      ports += (ports.empty() ? "" : ",") + std::to_string(pt.value("port", 0)) + "/" +
               pt.value("protocol", "TCP");
    cells.push_back(ports.empty() ? "<none>" : ports);
    cells.push_back(age(obj));
    std::string sel;
    for (const json items_src = spec.value("selector", json::object());
         const auto& [k, v] : items_src.items())
      sel += (sel.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    cells.push_back(sel.empty() ? "<none>" : sel);
  } else if (rt.group.empty() && p == "namespaces") {
    cells.push_back(st.value("phase", "Active"));
    cells.push_back(age(obj));
  } else if (rt.group.empty() && p == "configmaps") {
    cells.push_back(static_cast<int64_t>(obj.value("data", json::object()).size() +
                                         obj.value("binaryData", json::object()).size()));
    cells.push_back(age(obj));
  } else if (rt.group.empty() && p == "secrets") {
    cells.push_back(obj.value("type", "Opaque"));
    cells.push_back(static_cast<int64_t>(obj.value("data", json::object()).size()));
    cells.push_back(age(obj));
  } else if (rt.group.empty() && p == "persistentvolumeclaims") {
    cells.push_back(st.value("phase", "Pending"));
    cells.push_back(spec.value("volumeName", ""));
    cells.push_back(st.value("capacity", json::object()).value("storage", ""));
    std::string modes;
    for (const auto& m : st.value("accessModes", json::array())) {
      std::string s = m.get<std::string>();
      std::string abbr = s == "ReadWriteOnce"      ? "RWO"
                         : s == "ReadOnlyMany"     ? "ROX"
                         : s == "ReadWriteMany"    ? "RWX"
                         : s == "ReadWriteOncePod" ? "RWOP"
                                                   : s;
      modes += (modes.empty() ? "" : ",") + abbr;
    }
    cells.push_back(modes);
    cells.push_back(spec.value("storageClassName", ""));
    cells.push_back("<unset>");
    cells.push_back(age(obj));
    cells.push_back(spec.value("volumeMode", "Filesystem"));
  } else if (rt.group.empty() && p == "serviceaccounts") {
    cells.push_back(static_cast<int64_t>(obj.value("secrets", json::array()).size()));
    cells.push_back(age(obj));
  } else if (rt.group.empty() && p == "resourcequotas") {
    cells.push_back(age(obj));
    std::string req, lim;
    auto hard = st.value("hard", spec.value("hard", json::object()));
    auto used = st.value("used", json::object());
    for (auto& [k, v] : hard.items()) {
      std::string entry = k + ": " + (used.contains(k) ? used[k].get<std::string>() : "0") + "/" +
                          (v.is_string() ? v.get<std::string>() : v.dump());
      if (k.rfind("limits.", 0) == 0)
        lim += (lim.empty() ? "" : ", ") + entry;
      else
        req += (req.empty() ? "" : ", ") + entry;
    }
    cells.push_back(req);
    cells.push_back(lim);
  } else if (p == "events") {
    cells = json::array();
    std::string last = obj.value("lastTimestamp", obj.value("eventTime", ""));
    auto t = util::parse_rfc3339(last.empty() ? md.value("creationTimestamp", "") : last);
    cells.push_back(t ? human_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now() - *t)
                                           .count())
                      : "<unknown>");
    cells.push_back(obj.value("type", ""));
    cells.push_back(obj.value("reason", ""));
    auto io = obj.value("involvedObject", obj.value("regarding", json::object()));
    std::string kind = io.value("kind", "");
    std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
    cells.push_back(kind + "/" + io.value("name", ""));
    cells.push_back(obj.value("message", obj.value("note", "")));
  } else if (rt.group == "coordination.k8s.io" && p == "leases") {
    cells.push_back(spec.value("holderIdentity", ""));
    cells.push_back(age(obj));
  } else if (rt.group == "networking.k8s.io" && p == "ingresses") {
    cells.push_back(spec.value("ingressClassName", "<none>"));
    std::string hosts;
    for (const auto& r : spec.value("rules", json::array()))
      hosts += (hosts.empty() ? "" : ",") + r.value("host", "*");
    cells.push_back(hosts.empty() ? "*" : hosts);
    std::string addr;
    for (const auto& i : st.value("loadBalancer", json::object()).value("ingress", json::array()))
      addr += (addr.empty() ? "" : ",") + i.value("ip", i.value("hostname", ""));
    cells.push_back(addr);
    cells.push_back(spec.contains("tls") ? "80, 443" : "80");
    cells.push_back(age(obj));
  } else if (rt.group == "networking.k8s.io" && p == "networkpolicies") {
    std::string sel;
    for (const json items_src =
             spec.value("podSelector", json::object()).value("matchLabels", json::object());
         const auto& [k, v] : items_src.items())
      sel += (sel.empty() ? "" : ",") + k + "=" + v.get<std::string>();
    cells.push_back(sel.empty() ? "<none>" : sel);
    cells.push_back(age(obj));
  } else if (p == "customresourcedefinitions") {
    cells.push_back(md.value("creationTimestamp", ""));
  } else {
    cells.push_back(age(obj));
  }
  json row = {{"cells", cells}};
  if (include_object == "Object") {
    row["object"] = obj;
  } else if (include_object != "None") {
    row["object"] = {
        {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}};
  }
  return row;
}

json make_table(const ResourceType& rt, const std::vector<ObjPtr>& items, const json& list_metadata,
                const std::string& include_object, bool with_columns) {
  json rows = json::array();
  for (const auto& o : items) rows.push_back(table_row(rt, *o, include_object));
  json t = {{"kind", "Table"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", list_metadata},
            {"rows", rows}};
  if (with_columns)
    t["columnDefinitions"] = table_columns(rt);
  else
    t["columnDefinitions"] = nullptr;
  return t;
}

}  // namespace rc::sim

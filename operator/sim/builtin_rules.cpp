#include "remotecode/sim/builtin_rules.h"

#include <re2/re2.h>
#include <atomic>
#include <set>

#include "remotecode/kube/quantity.h"
#include "remotecode/sim/errors.h"
#include "remotecode/util/encoding.h"

namespace rc::sim {
namespace {

using nlohmann::json;

void set_default(json& obj, const char* key, json value) {
  if (!obj.contains(key) || obj[key].is_null()) obj[key] = std::move(value);
}

std::string image_pull_policy(const std::string& image) {
  auto slash = image.rfind('/');
  std::string last = slash == std::string::npos ? image : image.substr(slash + 1);
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  auto colon = last.rfind(':');
  if (colon == std::string::npos) return "Always";
  return last.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void default_probe(json& probe) {
  if (!probe.is_object()) return;
  set_default(probe, "timeoutSeconds", 1);
  set_default(probe, "periodSeconds", 10);
  set_default(probe, "successThreshold", 1);
  set_default(probe, "failureThreshold", 3);
  if (probe.contains("httpGet")) set_default(probe["httpGet"], "scheme", "HTTP");
}

// The apiserver stores a quantity as its canonical text, and rounds the quantities of core/v1
// ResourceLists (requests, limits, quotas, capacity) up to milli: "1000m" reads back as "1".
void canonicalize_quantity(json& v, int scale) {
  std::optional<std::string> c;
  if (v.is_string())
    c = kube::canonical_quantity(v.get<std::string>(), scale);
  else if (v.is_number())
    c = kube::canonical_quantity(v.dump(), scale);
  if (c) v = *c;
}

void canonicalize_resource_list(json& parent, const char* key) {
  if (!parent.is_object() || !parent.contains(key) || !parent[key].is_object()) return;
  for (auto& [name, v] : parent[key].items()) canonicalize_quantity(v, -3);
}

void canonicalize_requirements(json& parent) {
  if (!parent.is_object() || !parent.contains("resources")) return;
  canonicalize_resource_list(parent["resources"], "requests");
  canonicalize_resource_list(parent["resources"], "limits");
}

void default_container(json& c) {
  set_default(c, "terminationMessagePath", "/dev/termination-log");
  set_default(c, "terminationMessagePolicy", "File");
  set_default(c, "imagePullPolicy", image_pull_policy(c.value("image", "")));
  set_default(c, "resources", json::object());
  canonicalize_requirements(c);
  if (c.contains("ports"))
    for (auto& p : c["ports"]) set_default(p, "protocol", "TCP");
  if (c.contains("env"))
    for (auto& e : c["env"])
      if (e.contains("valueFrom") && e["valueFrom"].contains("fieldRef"))
        set_default(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
  for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"})
    if (c.contains(p)) default_probe(c[p]);
}

std::atomic<uint32_t> next_service_ip{10};

const RE2& dns1123_subdomain() {
  static const RE2 re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return re;
}
const RE2& dns1123_label() {
  static const RE2 re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return re;
}
const RE2& dns1035_label() {
  static const RE2 re("[a-z]([-a-z0-9]*[a-z0-9])?");
  return re;
}
const RE2& label_value_re() {
  static const RE2 re("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  return re;
}
const RE2& qualified_name_re() {
  static const RE2 re("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  return re;
}

std::string quote_json(const std::string& s) {
  return json(s).dump();
}

void check_label_key(const std::string& field, const std::string& key, json& causes) {
  std::string name = key;
  auto slash = key.find('/');
  if (slash != std::string::npos) {
    std::string prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.size() > 253 || !RE2::FullMatch(prefix, dns1123_subdomain()))
      causes.push_back(
          cause("FieldValueInvalid", field,
                "Invalid value: " + quote_json(key) +
                    ": prefix part a lowercase RFC 1123 subdomain must consist of lower "
                    "case alphanumeric characters, '-' or '.', and must start and end "
                    "with an alphanumeric character"));
  }
  if (name.empty() || name.size() > 63 || !RE2::FullMatch(name, qualified_name_re()))
    causes.push_back(cause(
        "FieldValueInvalid", field,
        "Invalid value: " + quote_json(key) +
            ": name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
            "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
}

void validate_pod_spec(const json& spec, const std::string& path, json& causes,
                       bool template_of_job) {
  if (!spec.is_object()) {
    causes.push_back(cause("FieldValueRequired", path, "Required value"));
    return;
  }
  auto containers = spec.value("containers", json::array());
  if (!containers.is_array() || containers.empty())
    causes.push_back(cause("FieldValueRequired", path + ".containers", "Required value"));
  std::set<std::string> names;
  for (const char* list : {"initContainers", "containers"}) {
    auto cs = spec.value(list, json::array());
    if (!cs.is_array()) continue;
    for (size_t i = 0; i < cs.size(); ++i) {
      std::string p = path + "." + list + "[" + std::to_string(i) + "]";
      std::string name = cs[i].value("name", "");
      if (name.empty()) {
        causes.push_back(cause("FieldValueRequired", p + ".name", "Required value"));
      } else if (!RE2::FullMatch(name, dns1123_label())) {
        causes.push_back(cause("FieldValueInvalid", p + ".name",
                               "Invalid value: " + quote_json(name) +
                                   ": a lowercase RFC 1123 label must consist of lower case "
                                   "alphanumeric characters or '-', and must start and end with an "
                                   "alphanumeric character"));
      } else if (!names.insert(name).second) {
        causes.push_back(
            cause("FieldValueDuplicate", p + ".name", "Duplicate value: " + quote_json(name)));
      }
      if (cs[i].value("image", "").empty())
        causes.push_back(cause("FieldValueRequired", p + ".image", "Required value"));
    }
  }
  std::string rp = spec.value("restartPolicy", "Always");
  if (template_of_job && rp != "Never" && rp != "OnFailure")
    causes.push_back(cause(
        "FieldValueNotSupported", path + ".restartPolicy",
        "Unsupported value: " + quote_json(rp) + ": supported values: \"OnFailure\", \"Never\""));
}

}  // namespace

// A pod template's metadata.creationTimestamp is serialised as null (a Go zero time).
static void default_template_metadata(json& tmpl) {
  if (!tmpl.is_object()) return;
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object())
    tmpl["metadata"] = json::object();
  if (!tmpl["metadata"].contains("creationTimestamp"))
    tmpl["metadata"]["creationTimestamp"] = nullptr;
}

void default_pod_spec(json& spec) {
  if (!spec.is_object()) return;
  set_default(spec, "restartPolicy", "Always");
  set_default(spec, "terminationGracePeriodSeconds", 30);
  set_default(spec, "dnsPolicy", "ClusterFirst");
  set_default(spec, "securityContext", json::object());
  set_default(spec, "schedulerName", "default-scheduler");
  for (const char* list : {"containers", "initContainers"})
    if (spec.contains(list) && spec[list].is_array())
      for (auto& c : spec[list]) default_container(c);
  canonicalize_resource_list(spec, "overhead");
  if (spec.contains("volumes") && spec["volumes"].is_array()) {
    for (auto& v : spec["volumes"]) {
      for (const char* src : {"configMap", "secret"})
        if (v.contains(src) && v[src].is_object()) set_default(v[src], "defaultMode", 420);
      if (v.contains("emptyDir") && v["emptyDir"].is_object() &&
          v["emptyDir"].contains("sizeLimit"))
        canonicalize_quantity(v["emptyDir"]["sizeLimit"], -9);  // a Quantity, not a list
    }
  }
}

void default_builtin(const ResourceType& rt, json& obj, bool creating) {
  auto& md = obj["metadata"];
  const std::string& k = rt.kind;
  if (rt.group.empty() && k == "Pod") {
    auto& spec = obj["spec"];
    default_pod_spec(spec);
    set_default(spec, "enableServiceLinks", true);
    set_default(spec, "serviceAccountName", "default");
    spec["serviceAccount"] = spec["serviceAccountName"];
    set_default(spec, "priority", 0);
    set_default(spec, "preemptionPolicy", "PreemptLowerPriority");
    if (creating) {
      // DefaultTolerationSeconds admission.
      json tol = spec.value("tolerations", json::array());
      auto has = [&](const char* key) {
        for (const auto& t : tol)
          if (t.value("key", "") == key) return true;
        return false;
      };
      for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
        if (!has(key))
          tol.push_back({{"key", key},
                         {"operator", "Exists"},
                         {"effect", "NoExecute"},
                         {"tolerationSeconds", 300}});
      spec["tolerations"] = tol;
      // ServiceAccount admission: the projected token volume, mounted in every container.
      if (spec.value("automountServiceAccountToken", true)) {
        std::string vol = "kube-api-access-" + util::random_name_suffix(5);
        json sources = json::array(
            {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
             {{"configMap",
               {{"items", json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})},
                {"name", "kube-root-ca.crt"}}}},
             {{"downwardAPI",
               {{"items",
                 json::array(
                     {{{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}},
                       {"path", "namespace"}}})}}}}});
        json volumes = spec.value("volumes", json::array());
        volumes.push_back(
            {{"name", vol}, {"projected", {{"defaultMode", 420}, {"sources", sources}}}});
        spec["volumes"] = volumes;
        for (const char* list : {"initContainers", "containers"}) {
          if (!spec.contains(list)) continue;
          for (auto& c : spec[list]) {
            json mounts = c.value("volumeMounts", json::array());
            mounts.push_back({{"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
                              {"name", vol},
                              {"readOnly", true}});
            c["volumeMounts"] = mounts;
          }
        }
      }
      // Requests default to limits when only limits are given.
      for (auto& c : spec["containers"]) {
        if (!c.contains("resources") || !c["resources"].contains("limits")) continue;
        auto& res = c["resources"];
        if (!res.contains("requests")) res["requests"] = json::object();
        for (auto& [name, q] : res["limits"].items())
          if (!res["requests"].contains(name)) res["requests"][name] = q;
      }
    }
  } else if (rt.group == "apps" && k == "Deployment") {
    auto& spec = obj["spec"];
    set_default(spec, "replicas", 1);
    set_default(spec, "revisionHistoryLimit", 10);
    set_default(spec, "progressDeadlineSeconds", 600);
    set_default(spec, "strategy", {{"type", "RollingUpdate"}});
    if (spec["strategy"].value("type", "") == "RollingUpdate")
      set_default(spec["strategy"], "rollingUpdate",
                  {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}});
    if (spec.contains("template")) {
      default_template_metadata(spec["template"]);
      default_pod_spec(spec["template"]["spec"]);
    }
  } else if (rt.group == "batch" && k == "Job") {
    auto& spec = obj["spec"];
    if (!spec.contains("completions") && !spec.contains("parallelism")) {
      spec["completions"] = 1;
      spec["parallelism"] = 1;
    }
    set_default(spec, "parallelism", 1);
    set_default(spec, "backoffLimit", spec.contains("backoffLimitPerIndex") ? 2147483647 : 6);
    set_default(spec, "completionMode", "NonIndexed");
    set_default(spec, "suspend", false);
    set_default(spec, "podReplacementPolicy",
                spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
    if (spec.contains("template")) {
      default_template_metadata(spec["template"]);
      default_pod_spec(spec["template"]["spec"]);
    }
    if (!spec.value("manualSelector", false)) spec["manualSelector"] = false;
    if (creating && !spec.value("manualSelector", false)) {
      std::string uid = md.value("uid", "");
      std::string name = md.value("name", "");
      spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
      auto& labels = spec["template"]["metadata"]["labels"];
      labels["batch.kubernetes.io/controller-uid"] = uid;
      labels["batch.kubernetes.io/job-name"] = name;
      labels["controller-uid"] = uid;
      labels["job-name"] = name;
      // A Job without labels takes its template's.
      if (!md.contains("labels") || md["labels"].empty()) md["labels"] = labels;
    }
  } else if (rt.group.empty() && k == "Service") {
    auto& spec = obj["spec"];
    set_default(spec, "type", "ClusterIP");
    set_default(spec, "sessionAffinity", "None");
    set_default(spec, "internalTrafficPolicy", "Cluster");
    if (spec.contains("ports"))
      for (auto& p : spec["ports"]) {
        set_default(p, "protocol", "TCP");
        if (p.contains("port")) set_default(p, "targetPort", p["port"]);
      }
    if (creating && (!obj.contains("status") || obj["status"].empty()))
      obj["status"] = {{"loadBalancer", json::object()}};
    if (creating && spec["type"] != "ExternalName") {
      if (!spec.contains("clusterIP") || spec["clusterIP"] == "") {
        uint32_t n = next_service_ip++;
        spec["clusterIP"] =
            "10.96." + std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
      }
      spec["clusterIPs"] = json::array({spec["clusterIP"]});
      set_default(spec, "ipFamilies", json::array({"IPv4"}));
      set_default(spec, "ipFamilyPolicy", "SingleStack");
    }
  } else if (rt.group.empty() && k == "PersistentVolumeClaim") {
    auto& spec = obj["spec"];
    canonicalize_requirements(spec);
    if (obj.contains("status")) canonicalize_resource_list(obj["status"], "capacity");
    set_default(spec, "volumeMode", "Filesystem");
    if (creating) set_default(spec, "storageClassName", "standard");
    if (creating) obj["status"] = {{"phase", "Pending"}};
  } else if (rt.group.empty() && k == "ResourceQuota") {
    if (obj.contains("spec")) canonicalize_resource_list(obj["spec"], "hard");
    if (obj.contains("status")) {
      canonicalize_resource_list(obj["status"], "hard");
      canonicalize_resource_list(obj["status"], "used");
    }
  } else if (rt.group.empty() && k == "Node") {
    if (obj.contains("status")) {
      canonicalize_resource_list(obj["status"], "capacity");
      canonicalize_resource_list(obj["status"], "allocatable");
    }
  } else if (rt.group.empty() && k == "Secret") {
    set_default(obj, "type", "Opaque");
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      for (auto& [key, v] : obj["stringData"].items())
        if (v.is_string()) obj["data"][key] = util::base64_encode(v.get<std::string>());
      obj.erase("stringData");
    }
  } else if (rt.group.empty() && k == "Namespace") {
    md["labels"]["kubernetes.io/metadata.name"] = md.value("name", "");
    set_default(obj, "spec", json::object());
    set_default(obj["spec"], "finalizers", json::array({"kubernetes"}));
    if (creating) obj["status"] = {{"phase", "Active"}};
  } else if (rt.group == "networking.k8s.io" && k == "NetworkPolicy") {
    auto& spec = obj["spec"];
    if (!spec.contains("policyTypes")) {
      json types = json::array({"Ingress"});
      if (spec.contains("egress")) types.push_back("Egress");
      spec["policyTypes"] = types;
    }
  } else if (rt.group == "networking.k8s.io" && k == "Ingress") {
    if (creating) obj["status"] = {{"loadBalancer", json::object()}};
  }
}

json validate_metadata(const ResourceType& rt, const json& obj) {
  json causes = json::array();
  const auto& md = obj.at("metadata");
  std::string name = md.value("name", "");
  bool label_name = rt.group.empty() && (rt.plural == "namespaces" || rt.plural == "services");
  if (!name.empty()) {
    bool ok;
    std::string what;
    if (rt.group.empty() && rt.plural == "services") {
      ok = name.size() <= 63 && RE2::FullMatch(name, dns1035_label());
      what =
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
          "with an alphabetic character, and end with an alphanumeric character (e.g. "
          "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    } else if (label_name) {
      ok = name.size() <= 63 && RE2::FullMatch(name, dns1123_label());
      what =
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
          "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
          "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    } else {
      ok = name.size() <= 253 && RE2::FullMatch(name, dns1123_subdomain());
      what =
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
          "'-' or '.', and must start and end with an alphanumeric character (e.g. "
          "'example.com', regex used for validation is "
          "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    }
    if (!ok)
      causes.push_back(cause("FieldValueInvalid", "metadata.name",
                             "Invalid value: " + quote_json(name) + ": " + what));
  }
  if (md.contains("labels")) {
    if (!md["labels"].is_object()) {
      causes.push_back(
          cause("FieldValueTypeInvalid", "metadata.labels", "Invalid value: must be an object"));
    } else {
      for (auto& [key, v] : md["labels"].items()) {
        check_label_key("metadata.labels", key, causes);
        std::string val = v.is_string() ? v.get<std::string>() : v.dump();
        if (!v.is_string() || val.size() > 63 || !RE2::FullMatch(val, label_value_re()))
          causes.push_back(cause(
              "FieldValueInvalid", "metadata.labels",
              "Invalid value: " + quote_json(val) +
                  ": a valid label must be an empty string or consist of alphanumeric characters, "
                  "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                  "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                  "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
      }
    }
  }
  if (md.contains("annotations") && md["annotations"].is_object()) {
    size_t total = 0;
    for (auto& [key, v] : md["annotations"].items()) {
      check_label_key("metadata.annotations", key, causes);
      if (!v.is_string())
        causes.push_back(cause("FieldValueTypeInvalid", "metadata.annotations." + key,
                               "Invalid value: must be a string"));
      else
        total += key.size() + v.get<std::string>().size();
    }
    if (total > 256 * 1024)
      causes.push_back(cause("FieldValueTooLong", "metadata.annotations",
                             "Too long: must have at most 262144 bytes"));
  }
  return causes;
}

json validate_builtin(const ResourceType& rt, const json& obj, const json* old) {
  json causes = json::array();
  const std::string& k = rt.kind;
  const json spec = obj.value("spec", json::object());
  if (rt.group.empty() && k == "Pod") {
    validate_pod_spec(spec, "spec", causes, false);
    if (old) {
      // Most of a pod's spec is immutable; images may change.
      json a = spec, b = old->value("spec", json::object());
      for (json* s : {&a, &b}) {
        for (const char* list : {"containers", "initContainers"})
          if (s->contains(list))
            for (auto& c : (*s)[list]) c.erase("image");
        s->erase("activeDeadlineSeconds");
        s->erase("tolerations");
        s->erase("nodeName");
      }
      if (a != b)
        causes.push_back(cause("FieldValueForbidden", "spec",
                               "Forbidden: pod updates may not change fields other than "
                               "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                               "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                               "to existing tolerations),`spec.terminationGracePeriodSeconds` "
                               "(allow it to be set to 1 if it was previously negative)"));
    }
  } else if (rt.group.empty() && k == "Event" && obj.value("eventTime", json()).is_null()) {
    // A core/v1 Event lives in its object's namespace; one of a cluster-scoped object lives in
    // "default" (or nowhere), as the apiserver's legacy event validation requires.
    std::string ns = obj.value("metadata", json::object()).value("namespace", "");
    std::string involved =
        obj.value("involvedObject", json::object()).value("namespace", std::string());
    bool ok = involved.empty() ? (ns.empty() || ns == "default") : ns == involved;
    if (!ok)
      causes.push_back(
          cause("FieldValueInvalid", "involvedObject.namespace",
                "Invalid value: " + quote_json(involved) + ": does not match event.namespace"));
  } else if (rt.group == "apps" && k == "Deployment") {
    // A negative count once reached the simulated controller and took the process down.
    const json replicas = spec.value("replicas", json(0));
    if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0)
      causes.push_back(
          cause("FieldValueInvalid", "spec.replicas",
                "Invalid value: " + replicas.dump() + ": must be greater than or equal to 0"));
    auto tmpl = spec.value("template", json::object());
    validate_pod_spec(tmpl.value("spec", json()), "spec.template.spec", causes, false);
    auto sel = spec.value("selector", json());
    if (!sel.is_object() || sel.empty()) {
      causes.push_back(cause("FieldValueRequired", "spec.selector", "Required value"));
    } else {
      auto labels = tmpl.value("metadata", json::object()).value("labels", json::object());
      bool match = true;
      for (const json items_src = sel.value("matchLabels", json::object());
           const auto& [key, v] : items_src.items())
        if (!labels.contains(key) || labels[key] != v) match = false;
      if (!match)
        causes.push_back(cause(
            "FieldValueInvalid", "spec.template.metadata.labels",
            "Invalid value: " + labels.dump() + ": `selector` does not match template `labels`"));
      if (old && old->value("spec", json::object()).value("selector", json()) != sel)
        causes.push_back(cause("FieldValueInvalid", "spec.selector",
                               "Invalid value: " + sel.dump() + ": field is immutable"));
    }
  } else if (rt.group == "batch" && k == "Job") {
    auto tmpl = spec.value("template", json::object());
    validate_pod_spec(tmpl.value("spec", json()), "spec.template.spec", causes, true);
    if (spec.value("completionMode", "NonIndexed") == "Indexed" && !spec.contains("completions"))
      causes.push_back(cause("FieldValueRequired", "spec.completions",
                             "Required value: when completion mode is Indexed"));
    if (old) {
      auto old_spec = old->value("spec", json::object());
      bool suspended = old_spec.value("suspend", false);
      if (!suspended && old_spec.value("template", json()) != spec.value("template", json()))
        causes.push_back(cause(
            "FieldValueInvalid", "spec.template",
            "Invalid value: " + spec.value("template", json()).dump() + ": field is immutable"));
      for (const char* f : {"completions", "completionMode", "selector"})
        if (old_spec.value(f, json()) != spec.value(f, json()) &&
            !(std::string(f) == "completions" &&
              old_spec.value("completionMode", "") == "Indexed" &&
              spec.value("completions", json()) == spec.value("parallelism", json())))
          causes.push_back(
              cause("FieldValueInvalid", std::string("spec.") + f,
                    "Invalid value: " + spec.value(f, json()).dump() + ": field is immutable"));
    }
  } else if (rt.group.empty() && k == "Service") {
    auto ports = spec.value("ports", json::array());
    std::string type = spec.value("type", "ClusterIP");
    if (type != "ExternalName" && spec.value("clusterIP", "") != "None" && ports.empty())
      causes.push_back(cause("FieldValueRequired", "spec.ports", "Required value"));
    if (old) {
      auto old_ip = old->value("spec", json::object()).value("clusterIP", "");
      if (!old_ip.empty() && spec.value("clusterIP", old_ip) != old_ip)
        causes.push_back(cause("FieldValueInvalid", "spec.clusterIPs[0]",
                               "Invalid value: " + quote_json(spec.value("clusterIP", "")) +
                                   ": may not change once set"));
    }
  } else if (rt.group.empty() && k == "PersistentVolumeClaim") {
    auto res = spec.value("resources", json::object()).value("requests", json::object());
    if (!res.contains("storage"))
      causes.push_back(cause("FieldValueRequired", "spec.resources[storage]", "Required value"));
    if (spec.value("accessModes", json::array()).empty())
      causes.push_back(cause("FieldValueRequired", "spec.accessModes",
                             "Required value: at least 1 access mode is required"));
  } else if (rt.group == "networking.k8s.io" && k == "Ingress") {
    auto rules = spec.value("rules", json::array());
    for (size_t i = 0; i < rules.size(); ++i) {
      auto paths = rules[i].value("http", json::object()).value("paths", json::array());
      for (size_t j = 0; j < paths.size(); ++j)
        if (!paths[j].contains("pathType"))
          causes.push_back(cause("FieldValueRequired",
                                 "spec.rules[" + std::to_string(i) + "].http.paths[" +
                                     std::to_string(j) + "].pathType",
                                 "Required value: pathType must be specified"));
    }
  } else if (rt.group.empty() && k == "ConfigMap") {
    // keys must be valid config keys
    for (const char* f : {"data", "binaryData"}) {
      if (!obj.contains(f) || !obj[f].is_object()) continue;
      static const RE2 key_re("[-._a-zA-Z0-9]+");
      for (auto& [key, v] : obj[f].items()) {
        if (key.size() > 253)
          causes.push_back(
              cause("FieldValueInvalid", std::string(f) + "[" + key + "]",
                    "Invalid value: " + quote_json(key) + ": must be no more than 253 characters"));
        if (!RE2::FullMatch(key, key_re))
          causes.push_back(cause("FieldValueInvalid", std::string(f) + "[" + key + "]",
                                 "Invalid value: " + quote_json(key) +
                                     ": a valid config key must consist of alphanumeric "
                                     "characters, '-', '_' or '.' (e.g. 'key.name',  or "
                                     "'KEY_NAME',  or 'key-name', regex used for validation is "
                                     "'[-._a-zA-Z0-9]+')"));
      }
    }
  }
  return causes;
}

}  // namespace rc::sim

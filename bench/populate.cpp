// `rc-bench populate`: fills the cluster with objects that are not the operator's but that it
// caches all the same (its informers list and watch pods, services, ... cluster-wide).
#include <iostream>

#include "commands.h"
#include "common.h"
#include "remotecode/controllers/children.h"

namespace rc::bench {

using nlohmann::json;
namespace refs = controllers::refs;

namespace {

// A pod as an ordinary Deployment's replica looks: labels, one container with ports, env,
// resources and probes; already bound to a node, so the simulator's kubelet runs it without
// its scheduler.
json pod_object(int64_t i, const std::string& ns, const std::string& node) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "web-" + std::to_string(i)},
        {"namespace", ns},
        {"labels", {{"app", "web"}, {"pod-template-hash", "5d8f7c9b6"}}}}},
      {"spec",
       {{"nodeName", node},
        {"containers",
         json::array(
             {{{"name", "web"},
               {"image", "nginx:1.27.2"},
               {"ports", json::array({{{"containerPort", 80}, {"protocol", "TCP"}}})},
               {"env", json::array({{{"name", "MODE"}, {"value", "production"}}})},
               {"resources",
                {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}},
                 {"limits", {{"memory", "64Mi"}}}}},
               {"readinessProbe",
                {{"httpGet", {{"path", "/healthz"}, {"port", 80}}}, {"periodSeconds", 10}}}}})}}}};
}

json service_object(int64_t i, const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "svc-" + std::to_string(i)}, {"namespace", ns}}},
          {"spec",
           {{"selector", {{"app", "web"}}},
            {"ports", json::array({{{"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}}})}}}};
}

}  // namespace

int run_populate(const Flags& flags) {
  const std::string kind = flags.str("kind", "pods");
  const int64_t n = flags.num("n", 1000);
  const int64_t from = flags.num("from", 0);  // first index: populate grows a set in steps
  const int64_t namespaces = flags.num("namespaces", 100);
  const int64_t nodes = flags.num("nodes", 1);
  const int threads = static_cast<int>(flags.num("threads", 8));
  if (kind != "pods" && kind != "services") throw std::invalid_argument("--kind pods|services");
  const kube::ResourceRef& ref = kind == "pods" ? refs::pods() : refs::services();
  auto client = connect(flags.kubeconfig(), 0, 1, "rc-bench");

  auto ns_of = [&](int64_t i) { return "filler-" + std::to_string(i % namespaces); };
  int64_t failed = parallel_for(std::min(namespaces, from + n), threads, [&](int64_t k) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_of(k)}}}};
    client->apply({"", "v1", "namespaces", false}, ns);
  });
  double t0 = seconds_now();
  failed += parallel_for(n, threads, [&](int64_t k) {
    int64_t i = from + k;
    std::string ns = ns_of(i);
    json obj = kind == "pods" ? pod_object(i, ns, "cpu-node-" + std::to_string(i % nodes))
                              : service_object(i, ns);
    client->create(ref, ns, obj);
  });
  double created = seconds_now() - t0;

  write_json(
      flags.str("out", "-"),
      {{"kind", kind}, {"created", n - failed}, {"errors", failed}, {"createSeconds", created}});
  return failed == 0 ? 0 : 1;
}

}  // namespace rc::bench

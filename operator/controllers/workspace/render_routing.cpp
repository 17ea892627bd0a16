// How a browser reaches a Workspace: its URL, the Service, the Ingress that asks the portal
// (forward-auth) before every request, and the NetworkPolicy that admits only the ingress
// controller.
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/workspace_render.h"

namespace rc::controllers::workspace {

using nlohmann::json;

namespace {

const std::string& name_of(const json& workspace) {
  return workspace.at("metadata").at("name").get_ref<const std::string&>();
}

std::string namespace_of(const json& workspace) {
  return workspace.at("metadata").value("namespace", "");
}

json ingress_annotations(api::Ide ide, const OperatorConfig& config) {
  json a = {
      {"nginx.ingress.kubernetes.io/auth-url", config.auth_url},
      {"nginx.ingress.kubernetes.io/auth-signin", config.auth_signin_url},
      // The portal names the signed-in user; the IDE may show it.
      {"nginx.ingress.kubernetes.io/auth-response-headers", "X-Remote-User"},
      // IDEs hold websockets open for hours and upload files of any size.
      {"nginx.ingress.kubernetes.io/proxy-read-timeout", "3600"},
      {"nginx.ingress.kubernetes.io/proxy-send-timeout", "3600"},
      {"nginx.ingress.kubernetes.io/proxy-body-size", "0"},
  };
  if (ide == api::Ide::VSCode) {
    // code-server only works at the root of its server (it uses relative URLs behind a
    // proxy), so the prefix is cut off: /w/ns/name/x reaches it as /x.
    a["nginx.ingress.kubernetes.io/use-regex"] = "true";
    a["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2";
  }
  return a;
}

json ingress_path(api::Ide ide, const std::string& base, const std::string& service) {
  json backend = {{"service", {{"name", service}, {"port", {{"number", 80}}}}}};
  if (ide == api::Ide::VSCode)
    return {
        {"path", base + "(/|$)(.*)"}, {"pathType", "ImplementationSpecific"}, {"backend", backend}};
  return {{"path", base + "/"}, {"pathType", "Prefix"}, {"backend", backend}};
}

}  // namespace

std::string base_path(const std::string& ns, const std::string& name) {
  return "/w/" + ns + "/" + name;
}

std::string workspace_url(const std::string& ns, const std::string& name,
                          const OperatorConfig& config) {
  std::string path = base_path(ns, name) + "/";
  if (config.ingress_host.empty()) return path;
  std::string scheme = config.ingress_tls_secret.empty() ? "http://" : "https://";
  return scheme + config.ingress_host + path;
}

json render_service(const json& workspace) {
  const std::string& name = name_of(workspace);
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", child_metadata(workspace, name, namespace_of(workspace), kKindLabelValue)},
      {"spec",
       {{"type", "ClusterIP"},
        {"selector", pod_labels(name)},
        {"ports",
         json::array(
             {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}}})}}}};
}

json render_ingress(const json& workspace, const RenderInput& in, const OperatorConfig& config) {
  const std::string& name = name_of(workspace);
  std::string ns = namespace_of(workspace);
  json md = child_metadata(workspace, name, ns, kKindLabelValue);
  md["annotations"] = ingress_annotations(in.ide, config);

  json rule = {
      {"http", {{"paths", json::array({ingress_path(in.ide, base_path(ns, name), name)})}}}};
  if (!config.ingress_host.empty()) rule["host"] = config.ingress_host;
  json spec = {{"ingressClassName", config.ingress_class}, {"rules", json::array({rule})}};
  if (!config.ingress_tls_secret.empty()) {
    json tls = {{"secretName", config.ingress_tls_secret}};
    if (!config.ingress_host.empty()) tls["hosts"] = json::array({config.ingress_host});
    spec["tls"] = json::array({tls});
  }
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", md},
          {"spec", spec}};
}

json render_network_policy(const json& workspace, const OperatorConfig& config) {
  const std::string& name = name_of(workspace);
  json from_ingress_controller = {
      {"namespaceSelector",
       {{"matchLabels", {{"kubernetes.io/metadata.name", config.ingress_namespace}}}}}};
  return {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata", child_metadata(workspace, name, namespace_of(workspace), kKindLabelValue)},
      {"spec",
       {{"podSelector", {{"matchLabels", pod_labels(name)}}},
        {"policyTypes", json::array({"Ingress"})},
        {"ingress",
         json::array({{{"from", json::array({from_ingress_controller})},
                       {"ports", json::array({{{"protocol", "TCP"}, {"port", kIdePort}}})}}})}}}};
}

}  // namespace rc::controllers::workspace

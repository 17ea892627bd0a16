// The in-cluster config of rest.InClusterConfig: the API server from the Service env vars, the
// pod's service-account token (re-read as the kubelet rotates it), its CA bundle and namespace.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

#include "remotecode/kube/config.h"

namespace rc::kube {
namespace {

std::string trim(std::string s) {
  const char* space = " \t\r\n";
  s.erase(0, s.find_first_not_of(space));
  s.erase(s.find_last_not_of(space) + 1);
  return s;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

ClusterConfig in_cluster_config(const std::string& service_account_dir) {
  std::string host = env("KUBERNETES_SERVICE_HOST"), port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    throw ConfigError(
        "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set "
        "(not running in a pod?)");
  ClusterConfig out;
  out.source = "in-cluster";
  // net.JoinHostPort: an IPv6 address needs brackets.
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  out.server = "https://" + host + ":" + port;

  std::string dir = service_account_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  out.token_file = dir + "/token";
  if (int err = detail::read_file(out.token_file, out.token))
    throw ConfigError("in-cluster: service account token \"" + out.token_file +
                      "\" cannot be read: " + std::strerror(err));
  out.token = trim(out.token);
  if (out.token.empty())
    throw ConfigError("in-cluster: service account token \"" + out.token_file + "\" is empty");

  // client-go logs a bad CA bundle and goes on with the system roots; so do we.
  std::string ca_file = dir + "/ca.crt";
  if (int err = detail::read_file(ca_file, out.ca_pem)) {
    spdlog::error("kube: in-cluster CA bundle {} cannot be read ({}); using the system roots",
                  ca_file, std::strerror(err));
    out.ca_pem.clear();
  } else if (std::string why = check_pem(out.ca_pem); !why.empty()) {
    spdlog::error("kube: in-cluster CA bundle {}: {}; using the system roots", ca_file, why);
    out.ca_pem.clear();
  }

  // clientcmd's inClusterClientConfig.Namespace(): $POD_NAMESPACE, then the mounted file.
  std::string ns = env("POD_NAMESPACE");
  if (ns.empty()) {
    std::string text;
    if (detail::read_file(dir + "/namespace", text) == 0) ns = trim(text);
  }
  if (!ns.empty()) out.namespace_name = ns;
  return out;
}

}  // namespace rc::kube

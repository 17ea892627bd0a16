// Where the API client finds its server and credentials: kubeconfig files (merged like kubectl),
// the in-cluster service account, and exec credential plugins, with client-go's rules.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "remotecode/util/clock.h"

namespace rc::kube {

// The configuration cannot be used. The message names the file and the field, e.g.
// `kubeconfig /x/config: users[0].user.client-key: file "/x/k.pem" cannot be read: ...`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A credential cannot be obtained right now: the exec plugin failed or timed out, or a token
// file that never could be read. Retrying later may work. Messages never contain secrets.
class CredentialError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// users[].user.exec of a kubeconfig (client.authentication.k8s.io v1 or v1beta1).
struct ExecConfig {
  std::string api_version, command;  // a command with a '/' is resolved against the kubeconfig
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to our own environment
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode = "IfAvailable";  // "Never" or "IfAvailable": we have no terminal
};

struct ClusterConfig {
  std::string server;  // "https://host:port" (or with a path prefix), no trailing slash
  std::string ca_pem;  // from certificate-authority-data or -authority file (read now)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;                   // clusters[].cluster.proxy-url, for the transport
  std::string namespace_name = "default";  // the context's namespace, or the in-cluster one
  std::string token;                       // static token
  std::string token_file;                  // re-read when it changes; wins over `token`
  std::string username, password;          // basic auth (kubeconfig only)
  std::string client_cert_pem, client_key_pem;
  std::optional<ExecConfig> exec;
  std::string source;  // "kubeconfig /path (context x)" or "in-cluster", for messages
};

// The service account folder a pod has mounted.
inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// `path` may be a ':'-list like $KUBECONFIG: files merged first-wins by name (clusters, users,
// contexts) and for current-context; missing files in a list of several are skipped. `context`
// empty means current-context. Files referenced by the chosen entries are read now, relative
// paths against the folder of the kubeconfig that names them. Throws ConfigError.
ClusterConfig load_kubeconfig(const std::string& path, const std::string& context = "");

// KUBERNETES_SERVICE_HOST/PORT and the service account's token, ca.crt and namespace (or
// $POD_NAMESPACE). A missing ca.crt is logged and the system roots are used, as client-go does.
ClusterConfig in_cluster_config(const std::string& service_account_dir = kServiceAccountDir);

// What the operator uses: the --kubeconfig flag if given, else $KUBECONFIG, else in-cluster if
// KUBERNETES_SERVICE_HOST is set (and no --context was given), else ~/.kube/config. Throws a
// ConfigError that says what was tried when none works.
ClusterConfig load_config(const std::string& kubeconfig_flag, const std::string& context_flag,
                          const std::string& service_account_dir = kServiceAccountDir);

namespace detail {
// Shared by the config sources: reads a whole file, returns 0 or the errno of the failure.
int read_file(const std::string& path, std::string& out);
}  // namespace detail

// "" when `cert_pem` holds at least one PEM certificate and, if `key_pem` is given, a private
// key (not encrypted) that matches the first certificate; otherwise what is wrong.
std::string check_pem(const std::string& cert_pem, const std::string& key_pem = "");

struct CredentialOptions {
  // An exec plugin still running after this is killed (with its process group).
  std::chrono::milliseconds exec_timeout = std::chrono::seconds(60);
  // Compared with status.expirationTimestamp; tests move it. Default: the system clock.
  std::function<util::SystemTime()> now;
};

// The credentials of one ClusterConfig, as client-go's transport applies them: a token file
// (re-read when it changes) or a static token or basic auth or a client certificate from the
// config; only when none is set, the exec plugin. Thread-safe; a plugin runs once at a time.
class Credentials {
 public:
  explicit Credentials(ClusterConfig cfg, CredentialOptions options = {});
  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  // "Bearer ...", "Basic ..." or "" (client-certificate auth or none). Runs the exec plugin when
  // it has no unexpired credential cached. Throws CredentialError.
  std::string authorization_header();

  struct ClientCert {
    std::string cert_pem, key_pem;
  };
  // From the config, or from the plugin's clientCertificateData/clientKeyData.
  std::optional<ClientCert> client_certificate();

  // After a 401: drop the cached exec credential so the next call runs the plugin again, and
  // re-read the token file.
  void invalidate();
  // The same, but only while `rejected_header` (what the failed request sent) is still what
  // authorization_header() gives: many requests failing together run the plugin once.
  void invalidate(const std::string& rejected_header);

  const ClusterConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rc::kube

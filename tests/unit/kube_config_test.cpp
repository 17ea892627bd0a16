// Cluster configuration as client-go builds it: kubeconfig fields, contexts, relative paths,
// KUBECONFIG lists merged first-wins, in-cluster service accounts, token file rotation and exec
// credential plugins (a shell script fixture that counts its runs in a file).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "remotecode/kube/config.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::kube {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kPlugin = std::string(RC_SOURCE_DIR) + "/tests/unit/data/kube_exec_plugin.sh";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kube_config_test.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (!made) throw std::runtime_error("mkdtemp failed");
    root_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string path(const std::string& rel = "") const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }
  std::string write(const std::string& rel, const std::string& text) const {
    std::string p = path(rel);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p;
  }
  // The plugin fixture, executable, at `rel`.
  std::string install_plugin(const std::string& rel) const {
    std::string p = path(rel);
    fs::create_directories(fs::path(p).parent_path());
    fs::copy_file(kPlugin, p, fs::copy_options::overwrite_existing);
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    return p;
  }

 private:
  std::string root_;
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

// Sets or unsets variables for one test and puts the old values back.
class EnvGuard {
 public:
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }
  void set(const std::string& name, const std::string& value) {
    save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Clears every variable load_config() looks at.
void clear_config_env(EnvGuard& env) {
  for (const char* v :
       {"KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "POD_NAMESPACE"})
    env.unset(v);
}

struct KeyPair {
  std::string cert_pem, key_pem;
};

// A self-signed P-256 certificate and its key, made fresh so no key sits in the repository.
KeyPair make_key_pair(const std::string& cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(b);
    return s;
  };
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  KeyPair kp{to_string(cb), to_string(kb)};
  X509_free(x);
  EVP_PKEY_free(key);
  return kp;
}

const KeyPair& client_pair() {
  static const KeyPair kp = make_key_pair("client");
  return kp;
}
const KeyPair& ca_pair() {
  static const KeyPair kp = make_key_pair("ca");
  return kp;
}

std::string b64(const std::string& s) {
  return util::base64_encode(s);
}

// Runs `f`, expects a ConfigError and returns its message.
template <typename F>
std::string config_error(F f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

template <typename F>
std::string credential_error(F f) {
  try {
    f();
  } catch (const CredentialError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no CredentialError";
  return "";
}

// ---------------------------------------------------------------------------------------------
// kubeconfig

const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: CA_DATA
- name: prod-cluster
  cluster:
    server: prod.example:443
    insecure-skip-tls-verify: true
    tls-server-name: api.prod.internal
    proxy-url: http://proxy:3128
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    username: admin
    password: s3cret
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)";

std::string two_contexts(const TempDir& d) {
  std::string text = kTwoContexts;
  text.replace(text.find("CA_DATA"), 7, b64(ca_pair().cert_pem));
  return d.write("config", text);
}

TEST(Kubeconfig, CurrentContextWithTokenAndCaData) {
  TempDir d;
  std::string path = two_contexts(d);
  ClusterConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "https://dev.example:6443");
  EXPECT_EQ(c.ca_pem, ca_pair().cert_pem);
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.token, "dev-token");
  EXPECT_TRUE(c.token_file.empty());
  EXPECT_EQ(c.namespace_name, "team-a");
  EXPECT_FALSE(c.exec.has_value());
  EXPECT_EQ(c.source, "kubeconfig " + path + " (context dev)");
}

TEST(Kubeconfig, ExplicitContextWinsOverCurrentContext) {
  TempDir d;
  ClusterConfig c = load_kubeconfig(two_contexts(d), "prod");
  EXPECT_EQ(c.server, "https://prod.example:443");  // a bare host:port means https
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.tls_server_name, "api.prod.internal");
  EXPECT_EQ(c.proxy_url, "http://proxy:3128");
  EXPECT_EQ(c.namespace_name, "default");
  EXPECT_TRUE(c.token.empty());
  EXPECT_EQ(c.username, "admin");
  EXPECT_EQ(c.password, "s3cret");
  EXPECT_NE(c.source.find("(context prod)"), std::string::npos);
}

TEST(Kubeconfig, RelativeFilesResolveAgainstTheKubeconfigFolder) {
  TempDir d;
  d.write("kube/certs/ca.crt", ca_pair().cert_pem);
  d.write("kube/certs/client.crt", client_pair().cert_pem);
  d.write("kube/certs/client.key", client_pair().key_pem);
  d.write("kube/tokens/t", "file-token\n");
  std::string path = d.write("kube/config", R"(
clusters:
- name: c
  cluster: {server: "https://h:1", certificate-authority: certs/ca.crt}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key: ./certs/../certs/client.key
    tokenFile: tokens/t
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
  ClusterConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.ca_pem, ca_pair().cert_pem);
  EXPECT_EQ(c.client_cert_pem, client_pair().cert_pem);
  EXPECT_EQ(c.client_key_pem, client_pair().key_pem);
  EXPECT_EQ(c.token_file, d.path("kube/tokens/t"));
}

TEST(Kubeconfig, ClientCertificateData) {
  TempDir d;
  std::string path = d.write("config", R"(
clusters:
- name: c
  cluster: {server: "https://h:1"}
users:
- name: u
  user:
    client-certificate-data: )" + b64(client_pair().cert_pem) +
                                           R"(
    client-key-data: )" + b64(client_pair().key_pem) +
                                           R"(
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
  ClusterConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.client_cert_pem, client_pair().cert_pem);
  EXPECT_EQ(c.client_key_pem, client_pair().key_pem);
  EXPECT_TRUE(c.ca_pem.empty());
}

// A kubeconfig with one cluster "c", one user "u" whose fields are `user`, and context "x".
std::string one_user(const TempDir& d, const std::string& user, const std::string& cluster = "") {
  return d.write("config", "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n" + cluster +
                               "users:\n- name: u\n  user:\n" + user +
                               "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                               "current-context: x\n");
}

TEST(Kubeconfig, UnreadableFileNamesTheFileAndTheField) {
  TempDir d;
  d.write("c.pem", client_pair().cert_pem);
  std::string path = one_user(d, "    client-certificate: c.pem\n    client-key: k.pem\n");
  EXPECT_EQ(config_error([&] { load_kubeconfig(path); }),
            "kubeconfig " + path + ": users[0].user.client-key: file \"" + d.path("k.pem") +
                "\" cannot be read: No such file or directory");
}

TEST(Kubeconfig, MissingTokenFileNamesTheField) {
  TempDir d;
  std::string path = one_user(d, "    tokenFile: secrets/none\n");
  std::string msg = config_error([&] { load_kubeconfig(path); });
  EXPECT_NE(msg.find("users[0].user.tokenFile"), std::string::npos) << msg;
  EXPECT_NE(msg.find(d.path("secrets/none")), std::string::npos) << msg;
}

TEST(Kubeconfig, CertificateProblems) {
  TempDir d;
  KeyPair other = make_key_pair("other");
  std::string msg = config_error([&] {
    load_kubeconfig(one_user(d, "    client-certificate-data: " + b64(client_pair().cert_pem) +
                                    "\n    client-key-data: " + b64(other.key_pem) + "\n"));
  });
  EXPECT_NE(msg.find("users[0].user.client-key-data: the private key does not match"),
            std::string::npos)
      << msg;

  msg = config_error([&] {
    load_kubeconfig(
        one_user(d, "    client-certificate-data: " + b64(client_pair().cert_pem) + "\n"));
  });
  EXPECT_NE(msg.find("users[0].user.client-key: missing"), std::string::npos) << msg;

  msg = config_error([&] { load_kubeconfig(one_user(d, "    client-key-data: not*base64\n")); });
  EXPECT_NE(msg.find("users[0].user.client-key-data: is not valid base64"), std::string::npos)
      << msg;

  d.write("ca.crt", ca_pair().cert_pem);
  msg = config_error([&] {
    load_kubeconfig(one_user(d, "    token: t\n",
                             "    certificate-authority: ca.crt\n"
                             "    certificate-authority-data: " +
                                 b64(ca_pair().cert_pem) + "\n"));
  });
  EXPECT_NE(msg.find("clusters[0].cluster.certificate-authority: both"), std::string::npos) << msg;

  msg = config_error([&] {
    load_kubeconfig(
        one_user(d, "    token: t\n",
                 "    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true\n"));
  });
  EXPECT_NE(msg.find("clusters[0].cluster.insecure-skip-tls-verify"), std::string::npos) << msg;

  msg = config_error([&] {
    load_kubeconfig(one_user(d, "    token: t\n",
                             "    certificate-authority-data: " + b64("not a pem") + "\n"));
  });
  EXPECT_NE(msg.find("certificate-authority-data: no PEM certificate found"), std::string::npos)
      << msg;
}

TEST(Kubeconfig, MissingContextClusterAndUserAreNamed) {
  TempDir d;
  std::string path = d.write("config", R"(
clusters:
- name: c
  cluster: {server: "https://h:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: ok
  context: {cluster: c, user: u}
- name: no-cluster
  context: {cluster: gone, user: u}
- name: no-user
  context: {cluster: c, user: ghost}
current-context: elsewhere
)");
  std::string msg = config_error([&] { load_kubeconfig(path, "nope"); });
  EXPECT_NE(msg.find("context \"nope\" is not defined (contexts: no-cluster, no-user, ok)"),
            std::string::npos)
      << msg;
  msg = config_error([&] { load_kubeconfig(path); });
  EXPECT_NE(msg.find(path + ": current-context: context \"elsewhere\" is not defined"),
            std::string::npos)
      << msg;
  msg = config_error([&] { load_kubeconfig(path, "no-cluster"); });
  EXPECT_NE(msg.find("contexts[1].context.cluster: cluster \"gone\" is not defined"),
            std::string::npos)
      << msg;
  msg = config_error([&] { load_kubeconfig(path, "no-user"); });
  EXPECT_NE(msg.find("contexts[2].context.user: user \"ghost\" is not defined"), std::string::npos)
      << msg;
  EXPECT_EQ(load_kubeconfig(path, "ok").token, "t");
}

TEST(Kubeconfig, NoCurrentContext) {
  TempDir d;
  std::string path = d.write("config", "clusters: []\n");
  std::string msg = config_error([&] { load_kubeconfig(path); });
  EXPECT_NE(msg.find("current-context: not set"), std::string::npos) << msg;
}

TEST(Kubeconfig, MalformedYamlNamesTheFileAndLine) {
  TempDir d;
  std::string path = d.write("broken", "clusters:\n- name: c\n  cluster: [server\n");
  std::string msg = config_error([&] { load_kubeconfig(path); });
  EXPECT_EQ(msg.rfind("kubeconfig " + path + ": invalid YAML at line ", 0), 0u) << msg;

  std::string wrong_type = d.write("wrong", "clusters: {c: 1}\n");
  msg = config_error([&] { load_kubeconfig(wrong_type); });
  EXPECT_EQ(msg, "kubeconfig " + wrong_type + ": clusters: must be a list");

  std::string dup = d.write("dup",
                            "clusters:\n- name: c\n  cluster: {server: a}\n- name: c\n"
                            "  cluster: {server: b}\n");
  msg = config_error([&] { load_kubeconfig(dup); });
  EXPECT_NE(msg.find("clusters[1].name: duplicate name \"c\""), std::string::npos) << msg;
}

TEST(Kubeconfig, MissingFile) {
  TempDir d;
  std::string msg = config_error([&] { load_kubeconfig(d.path("none")); });
  EXPECT_EQ(msg, "kubeconfig " + d.path("none") + ": cannot be read: No such file or directory");
  msg = config_error([&] { load_kubeconfig(d.path("a") + ":" + d.path("b")); });
  EXPECT_NE(msg.find("none of the files"), std::string::npos) << msg;
}

TEST(Kubeconfig, KubeconfigListMergesFirstWins) {
  TempDir d;
  std::string a = d.write("a/config", R"(
current-context: ctx-a
clusters:
- name: c1
  cluster: {server: "https://a:1"}
users:
- name: u1
  user: {token: token-a}
contexts:
- name: ctx-a
  context: {cluster: c1, user: u1}
)");
  d.write("b/tok", "token-b\n");
  std::string b = d.write("b/config", R"(
current-context: ctx-b
clusters:
- name: c1
  cluster: {server: "https://b:1"}
- name: c2
  cluster: {server: "https://b:2"}
users:
- name: u1
  user: {token: ignored}
- name: u2
  user: {tokenFile: tok}
contexts:
- name: ctx-a
  context: {cluster: c2, user: u2}
- name: ctx-b
  context: {cluster: c1, user: u2, namespace: nb}
)");
  std::string list = a + ":" + d.path("missing") + "::" + b;
  ClusterConfig c = load_kubeconfig(list);
  EXPECT_EQ(c.server, "https://a:1");  // ctx-a and c1 from the first file
  EXPECT_EQ(c.token, "token-a");
  EXPECT_EQ(c.source, "kubeconfig " + a + ":" + b + " (context ctx-a)");

  // ctx-b exists only in b, but its cluster c1 is a's; its user's relative tokenFile is b's.
  c = load_kubeconfig(list, "ctx-b");
  EXPECT_EQ(c.server, "https://a:1");
  EXPECT_EQ(c.token_file, d.path("b/tok"));
  EXPECT_EQ(c.namespace_name, "nb");

  c = load_kubeconfig(b + ":" + a);
  EXPECT_EQ(c.server, "https://b:1");  // b's current-context and clusters first now
  EXPECT_EQ(c.token_file, d.path("b/tok"));
}

TEST(Kubeconfig, ExecPluginFields) {
  TempDir d;
  std::string path = one_user(d, R"(    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --cluster, x]
      env:
      - {name: A, value: "1"}
      - {name: B}
      installHint: brew install plugin
      provideClusterInfo: true
      interactiveMode: Never
)");
  ClusterConfig c = load_kubeconfig(path);
  ASSERT_TRUE(c.exec.has_value());
  EXPECT_EQ(c.exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(c.exec->command, d.path("bin/plugin"));
  EXPECT_EQ(c.exec->args, (std::vector<std::string>{"get-token", "--cluster", "x"}));
  ASSERT_EQ(c.exec->env.size(), 2u);
  EXPECT_EQ(c.exec->env[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(c.exec->env[1], (std::pair<std::string, std::string>{"B", ""}));
  EXPECT_EQ(c.exec->install_hint, "brew install plugin");
  EXPECT_TRUE(c.exec->provide_cluster_info);
  EXPECT_EQ(c.exec->interactive_mode, "Never");

  // A command without a '/' is looked up in PATH, not next to the kubeconfig.
  path = one_user(d,
                  "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: "
                  "gke-gcloud-auth-plugin}\n");
  c = load_kubeconfig(path);
  EXPECT_EQ(c.exec->command, "gke-gcloud-auth-plugin");
  EXPECT_EQ(c.exec->interactive_mode, "IfAvailable");  // v1beta1's default

  std::string msg = config_error([&] {
    load_kubeconfig(
        one_user(d, "    exec: {apiVersion: client.authentication.k8s.io/v1, command: p}\n"));
  });
  EXPECT_NE(msg.find("users[0].user.exec.interactiveMode: missing"), std::string::npos) << msg;
  msg = config_error([&] {
    load_kubeconfig(
        one_user(d, "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}\n"));
  });
  EXPECT_NE(msg.find("users[0].user.exec.apiVersion"), std::string::npos) << msg;
}

TEST(Kubeconfig, UnsupportedAuthIsRefused) {
  TempDir d;
  std::string msg =
      config_error([&] { load_kubeconfig(one_user(d, "    auth-provider: {name: oidc}\n")); });
  EXPECT_NE(msg.find("users[0].user.auth-provider: auth-provider \"oidc\" is not supported"),
            std::string::npos)
      << msg;
  msg = config_error([&] { load_kubeconfig(one_user(d, "    token: t\n    as: admin\n")); });
  EXPECT_NE(msg.find("users[0].user.as: impersonation"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------------
// in-cluster and load_config

TEST(InCluster, ReadsTheServiceAccountFolder) {
  TempDir d;
  d.write("sa/token", "sa-token\n");
  d.write("sa/ca.crt", ca_pair().cert_pem);
  d.write("sa/namespace", "team-b\n");
  EnvGuard env;
  clear_config_env(env);
  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  ClusterConfig c = in_cluster_config(d.path("sa"));
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token, "sa-token");
  EXPECT_EQ(c.token_file, d.path("sa/token"));
  EXPECT_EQ(c.ca_pem, ca_pair().cert_pem);
  EXPECT_EQ(c.namespace_name, "team-b");
  EXPECT_EQ(c.source, "in-cluster");

  env.set("KUBERNETES_SERVICE_HOST", "fd00::1");
  env.set("POD_NAMESPACE", "from-env");
  c = in_cluster_config(d.path("sa"));
  EXPECT_EQ(c.server, "https://[fd00::1]:443");
  EXPECT_EQ(c.namespace_name, "from-env");
}

TEST(InCluster, Failures) {
  TempDir d;
  EnvGuard env;
  clear_config_env(env);
  std::string msg = config_error([&] { in_cluster_config(d.path()); });
  EXPECT_NE(msg.find("KUBERNETES_SERVICE_HOST"), std::string::npos) << msg;

  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  msg = config_error([&] { in_cluster_config(d.path()); });
  EXPECT_NE(msg.find(d.path("token")), std::string::npos) << msg;

  // No ca.crt and no namespace file: the system roots and "default".
  d.write("token", "t");
  ClusterConfig c = in_cluster_config(d.path());
  EXPECT_TRUE(c.ca_pem.empty());
  EXPECT_EQ(c.namespace_name, "default");
}

TEST(LoadConfig, FlagThenKubeconfigEnvThenInClusterThenHome) {
  TempDir d;
  EnvGuard env;
  clear_config_env(env);
  env.set("HOME", d.path("home"));
  auto config_for = [&](const std::string& rel, const std::string& server) {
    return d.write(rel, "clusters:\n- name: c\n  cluster: {server: \"" + server +
                            "\"}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                            "current-context: x\n");
  };
  std::string flag = config_for("flag", "https://flag:1");
  std::string envfile = config_for("env", "https://env:1");
  config_for("home/.kube/config", "https://home:1");
  d.write("sa/token", "t");
  d.write("sa/ca.crt", ca_pair().cert_pem);

  EXPECT_EQ(load_config("", "", d.path("sa")).server, "https://home:1");

  env.set("KUBERNETES_SERVICE_HOST", "10.0.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  EXPECT_EQ(load_config("", "", d.path("sa")).server, "https://10.0.0.1:443");
  EXPECT_EQ(load_config("", "x", d.path("sa")).server, "https://home:1");
  // In-cluster failing falls back to ~/.kube/config, as controller-runtime does.
  EXPECT_EQ(load_config("", "", d.path("no-sa")).server, "https://home:1");

  env.set("KUBECONFIG", envfile);
  EXPECT_EQ(load_config("", "", d.path("sa")).server, "https://env:1");
  EXPECT_EQ(load_config(flag, "", d.path("sa")).server, "https://flag:1");
}

TEST(LoadConfig, NothingFound) {
  TempDir d;
  EnvGuard env;
  clear_config_env(env);
  env.set("HOME", d.path());
  std::string msg = config_error([&] { load_config("", "", d.path("sa")); });
  EXPECT_NE(msg.find("no Kubernetes configuration found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("KUBERNETES_SERVICE_HOST is not set"), std::string::npos) << msg;
  EXPECT_NE(msg.find(d.path(".kube/config") + " does not exist"), std::string::npos) << msg;

  env.set("KUBERNETES_SERVICE_HOST", "10.0.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  msg = config_error([&] { load_config("", "", d.path("sa")); });
  EXPECT_NE(msg.find(d.path("sa/token")), std::string::npos) << msg;  // why in-cluster failed
}

// ---------------------------------------------------------------------------------------------
// Credentials: static, token file

TEST(Credentials, StaticTokenBasicAndClientCert) {
  ClusterConfig c;
  c.token = "abc";
  EXPECT_EQ(Credentials(c).authorization_header(), "Bearer abc");
  EXPECT_FALSE(Credentials(c).client_certificate().has_value());

  ClusterConfig basic;
  basic.username = "admin";
  basic.password = "pw";
  EXPECT_EQ(Credentials(basic).authorization_header(), "Basic " + b64("admin:pw"));

  ClusterConfig cert;
  cert.client_cert_pem = client_pair().cert_pem;
  cert.client_key_pem = client_pair().key_pem;
  Credentials creds(cert);
  EXPECT_EQ(creds.authorization_header(), "");
  auto cc = creds.client_certificate();
  ASSERT_TRUE(cc.has_value());
  EXPECT_EQ(cc->cert_pem, client_pair().cert_pem);
  EXPECT_EQ(cc->key_pem, client_pair().key_pem);
}

TEST(Credentials, TokenFileRotation) {
  TempDir d;
  std::string file = d.write("token", "first\n");
  ClusterConfig c;
  c.token = "static";
  c.token_file = file;
  Credentials creds(c);
  EXPECT_EQ(creds.authorization_header(), "Bearer first");
  EXPECT_EQ(creds.authorization_header(), "Bearer first");

  d.write("token", "second-token");  // rewritten in place
  EXPECT_EQ(creds.authorization_header(), "Bearer second-token");

  // The kubelet swaps a symlinked folder: a new inode with content of the same length.
  d.write("token.new", "third--token");
  fs::rename(d.path("token.new"), file);
  EXPECT_EQ(creds.authorization_header(), "Bearer third--token");

  // Gone for a moment: the last good token stays in use.
  fs::remove(file);
  EXPECT_EQ(creds.authorization_header(), "Bearer third--token");
  d.write("token", "fourth");
  EXPECT_EQ(creds.authorization_header(), "Bearer fourth");
}

TEST(Credentials, TokenFileNeverReadable) {
  TempDir d;
  ClusterConfig c;
  c.token_file = d.path("none");
  c.source = "in-cluster";
  Credentials creds(c);
  std::string msg = credential_error([&] { creds.authorization_header(); });
  EXPECT_NE(msg.find(d.path("none")), std::string::npos) << msg;
  c.token = "fallback";
  EXPECT_EQ(Credentials(c).authorization_header(), "Bearer fallback");
}

// ---------------------------------------------------------------------------------------------
// Credentials: exec plugins

// Moves only when told to.
class FakeClock {
 public:
  explicit FakeClock(const std::string& at) : t_(*util::parse_rfc3339(at)) {}
  void set(const std::string& at) { t_ = *util::parse_rfc3339(at); }
  std::function<util::SystemTime()> fn() {
    return [this] { return t_.load(); };
  }

 private:
  std::atomic<util::SystemTime> t_;
};

// A kubeconfig whose user runs the plugin fixture (copied next to it) with `env`.
struct ExecSetup {
  TempDir dir;
  std::string counter, info;

  ClusterConfig load(const std::map<std::string, std::string>& env,
                     const std::string& api_version = "client.authentication.k8s.io/v1",
                     const std::string& extra = "") {
    dir.install_plugin("bin/kube_exec_plugin.sh");
    dir.write("ca.crt", ca_pair().cert_pem);
    counter = dir.path("runs");
    info = dir.path("info.json");
    std::string yaml =
        "clusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
        "    certificate-authority: ca.crt\n    tls-server-name: api.internal\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        "      apiVersion: " +
        api_version +
        "\n      command: ./bin/kube_exec_plugin.sh\n"
        "      installHint: run the installer\n" +
        extra + "      env:\n";
    std::map<std::string, std::string> all = env;
    all.emplace("COUNTER_FILE", counter);
    all.emplace("INFO_FILE", info);
    for (const auto& [k, v] : all) yaml += "      - {name: " + k + ", value: \"" + v + "\"}\n";
    if (api_version == "client.authentication.k8s.io/v1")
      yaml += "      interactiveMode: IfAvailable\n";
    yaml += "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
    return load_kubeconfig(dir.write("config", yaml));
  }
  int runs() const { return fs::exists(counter) ? lines(counter) : 0; }
  json exec_info() const { return json::parse(read(info)); }
};

TEST(ExecPlugin, TokenCachedUntilInvalidated) {
  ExecSetup s;
  Credentials creds(s.load({}));
  EXPECT_EQ(creds.authorization_header(), "Bearer token-1");
  EXPECT_EQ(creds.authorization_header(), "Bearer token-1");
  EXPECT_FALSE(creds.client_certificate().has_value());
  EXPECT_EQ(s.runs(), 1);  // no expirationTimestamp: cached until invalidate()

  json info = s.exec_info();
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_FALSE(info["spec"].contains("cluster"));  // provideClusterInfo is off

  creds.invalidate();
  EXPECT_EQ(creds.authorization_header(), "Bearer token-2");
  EXPECT_EQ(s.runs(), 2);

  // A 401 for a token that was already replaced does not run the plugin again.
  creds.invalidate("Bearer token-1");
  EXPECT_EQ(creds.authorization_header(), "Bearer token-2");
  EXPECT_EQ(s.runs(), 2);
  creds.invalidate("Bearer token-2");
  EXPECT_EQ(creds.authorization_header(), "Bearer token-3");
  EXPECT_EQ(s.runs(), 3);
}

TEST(ExecPlugin, CachedUntilExpirationTimestamp) {
  ExecSetup s;
  FakeClock clock("2030-01-01T11:00:00Z");
  CredentialOptions options;
  options.now = clock.fn();
  Credentials creds(s.load({{"PLUGIN_EXPIRY", "2030-01-01T12:00:00Z"}}), options);
  EXPECT_EQ(creds.authorization_header(), "Bearer token-1");
  clock.set("2030-01-01T11:59:59Z");
  EXPECT_EQ(creds.authorization_header(), "Bearer token-1");
  EXPECT_EQ(s.runs(), 1);
  clock.set("2030-01-01T12:00:01Z");
  EXPECT_EQ(creds.authorization_header(), "Bearer token-2");
  EXPECT_EQ(s.runs(), 2);
}

TEST(ExecPlugin, ConcurrentCallersRunThePluginOnce) {
  ExecSetup s;
  Credentials creds(s.load({}));
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      if (creds.authorization_header() == "Bearer token-1") ++good;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 6);
  EXPECT_EQ(s.runs(), 1);
}

TEST(ExecPlugin, V1beta1AndClusterInfo) {
  ExecSetup s;
  Credentials creds(
      s.load({}, "client.authentication.k8s.io/v1beta1", "      provideClusterInfo: true\n"));
  EXPECT_EQ(creds.authorization_header(), "Bearer token-1");
  json info = s.exec_info();
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://h:6443");
  EXPECT_EQ(info["spec"]["cluster"]["tls-server-name"], "api.internal");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], b64(ca_pair().cert_pem));
}

TEST(ExecPlugin, FailureIncludesTrimmedStderr) {
  ExecSetup s;
  Credentials creds(s.load({{"PLUGIN_MODE", "fail"}}));
  std::string msg = credential_error([&] { creds.authorization_header(); });
  EXPECT_NE(msg.find("failed with exit code 3; stderr: plugin: no credentials for cluster-x "
                     "(run login first)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("first)  "), std::string::npos) << msg;
  EXPECT_NE(msg.find(s.dir.path("bin/kube_exec_plugin.sh")), std::string::npos) << msg;
  // Failures are not cached.
  credential_error([&] { creds.authorization_header(); });
  EXPECT_EQ(s.runs(), 2);
}

TEST(ExecPlugin, MissingCommandShowsTheInstallHint) {
  ClusterConfig c;
  c.source = "kubeconfig /x (context y)";
  c.exec.emplace();
  c.exec->api_version = "client.authentication.k8s.io/v1";
  c.exec->command = "rc-no-such-credential-plugin";
  c.exec->install_hint = "Install it with: apt-get install rc-plugin";
  Credentials creds(c);
  std::string msg = credential_error([&] { creds.authorization_header(); });
  EXPECT_NE(msg.find("executable rc-no-such-credential-plugin not found"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("Install it with: apt-get install rc-plugin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("kubeconfig /x (context y)"), std::string::npos) << msg;
}

TEST(ExecPlugin, WrongApiVersionAndGarbageOutput) {
  ExecSetup s;
  Credentials wrong(s.load({{"PLUGIN_API_VERSION", "client.authentication.k8s.io/v1beta1"}}));
  std::string msg = credential_error([&] { wrong.authorization_header(); });
  EXPECT_NE(msg.find("is configured to use API version client.authentication.k8s.io/v1, plugin "
                     "returned version \"client.authentication.k8s.io/v1beta1\""),
            std::string::npos)
      << msg;

  ExecSetup g;
  Credentials garbage(g.load({{"PLUGIN_MODE", "garbage"}}));
  msg = credential_error([&] { garbage.authorization_header(); });
  EXPECT_NE(msg.find("stdout is not a JSON ExecCredential"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("token-secret-value"), std::string::npos) << msg;  // never echo output
}

TEST(ExecPlugin, TimeoutKillsThePlugin) {
  ExecSetup s;
  CredentialOptions options;
  options.exec_timeout = std::chrono::milliseconds(300);
  Credentials creds(s.load({{"PLUGIN_MODE", "sleep"}}), options);
  auto start = std::chrono::steady_clock::now();
  std::string msg = credential_error([&] { creds.authorization_header(); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_NE(msg.find("did not finish within 300ms"), std::string::npos) << msg;
  EXPECT_NE(msg.find("stderr: waiting for the login"), std::string::npos) << msg;
}

TEST(ExecPlugin, ClientCertificateFromThePlugin) {
  ExecSetup s;
  s.dir.write("c.pem", client_pair().cert_pem);
  s.dir.write("k.pem", client_pair().key_pem);
  Credentials creds(s.load({{"PLUGIN_MODE", "cert"},
                            {"CERT_FILE", s.dir.path("c.pem")},
                            {"KEY_FILE", s.dir.path("k.pem")}}));
  EXPECT_EQ(creds.authorization_header(), "");
  auto cc = creds.client_certificate();
  ASSERT_TRUE(cc.has_value());
  EXPECT_EQ(cc->cert_pem, client_pair().cert_pem);
  EXPECT_EQ(cc->key_pem, client_pair().key_pem);
  EXPECT_EQ(s.runs(), 1);
}

TEST(ExecPlugin, SkippedWhenTheConfigHasAToken) {
  ExecSetup s;
  ClusterConfig c = s.load({});
  c.token = "static";
  Credentials creds(c);
  EXPECT_EQ(creds.authorization_header(), "Bearer static");
  EXPECT_EQ(s.runs(), 0);
}

}  // namespace
}  // namespace rc::kube

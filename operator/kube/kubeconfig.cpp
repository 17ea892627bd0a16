// kubeconfig files as clientcmd reads them: a ':'-list merged first-wins, one context chosen, its
// cluster and user turned into a ClusterConfig with every referenced file read now.
#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "remotecode/kube/config.h"
#include "remotecode/util/encoding.h"

namespace rc::kube {

int detail::read_file(const std::string& path, std::string& out) {
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return EISDIR;
  }
  out.clear();
  char buf[16384];
  int err = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      err = errno;
      break;
    }
  }
  ::close(fd);
  return err;
}

namespace {

namespace fs = std::filesystem;

// One kubeconfig file of the list.
struct Source {
  std::string file;  // absolute, as named in messages
  std::string dir;   // relative paths inside it resolve against this
};

// A named entry of clusters/users/contexts: the inner map and where it came from.
struct Entry {
  YAML::Node body;
  const Source* src = nullptr;
  std::string where;  // "users[0].user"
};

struct Merged {
  std::vector<Source> sources;  // only the files that exist, in list order
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  const Source* current_context_src = nullptr;
};

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& msg) {
  throw ConfigError("kubeconfig " + file + ": " + (field.empty() ? "" : field + ": ") + msg);
}

std::string resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

// Typed access to the fields of one map, naming the field in every error.
class Fields {
 public:
  Fields(YAML::Node node, const Source& src, std::string where)
      : node_(std::move(node)), src_(src), where_(std::move(where)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(src_.file, where_, "must be a map");
  }

  std::string field(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }
  [[noreturn]] void fail_at(const std::string& key, const std::string& msg) const {
    fail(src_.file, field(key), msg);
  }

  // The value, or an undefined node (false in a condition) when absent or null.
  YAML::Node get(const std::string& key) const {
    const YAML::Node& node = node_;
    if (!node || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node v = node[key];
    if (!v || v.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    return v;
  }
  bool has(const std::string& key) const { return static_cast<bool>(get(key)); }

  std::string str(const std::string& key) const {
    YAML::Node v = get(key);
    if (!v) return "";
    if (!v.IsScalar()) fail_at(key, "must be a string");
    return v.Scalar();
  }

  bool boolean(const std::string& key) const {
    YAML::Node v = get(key);
    if (!v) return false;
    bool b = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) fail_at(key, "must be true or false");
    return b;
  }

  YAML::Node seq(const std::string& key) const {
    YAML::Node v = get(key);
    if (v && !v.IsSequence()) fail_at(key, "must be a list");
    return v;
  }

  // A base64 field (Go's []byte in JSON).
  std::string bytes(const std::string& key) const {
    std::string s = str(key);
    if (s.empty()) return s;
    try {
      return util::base64_decode(s);
    } catch (const std::invalid_argument&) {
      fail_at(key, "is not valid base64");
    }
  }

  // A path field: resolved against the kubeconfig's folder and read now.
  std::string file_contents(const std::string& key, std::string* resolved = nullptr) const {
    std::string path = resolve(src_.dir, str(key));
    if (resolved) *resolved = path;
    if (path.empty()) return "";
    std::string data;
    if (int err = detail::read_file(path, data))
      fail_at(key, "file \"" + path + "\" cannot be read: " + std::strerror(err));
    return data;
  }

  const Source& src() const { return src_; }

 private:
  YAML::Node node_;
  const Source& src_;
  std::string where_;
};

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ':')) {
    if (item.empty()) continue;
    std::string abs = fs::absolute(item).lexically_normal().string();
    if (seen.insert(abs).second) out.push_back(abs);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Adds the named entries of one list (clusters, users or contexts) of one file; names already
// defined by an earlier file are kept (first wins), a name twice in one file is an error.
void collect(const YAML::Node& root, const Source& src, const std::string& list,
             const std::string& inner, std::map<std::string, Entry>& into) {
  YAML::Node items = root[list];
  if (!items || items.IsNull()) return;
  if (!items.IsSequence()) fail(src.file, list, "must be a list");
  std::map<std::string, size_t> here;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string where = list + "[" + std::to_string(i) + "]";
    const YAML::Node& item = items[i];
    if (!item.IsMap()) fail(src.file, where, "must be a map with name and " + inner);
    YAML::Node name_node = item["name"];
    if (!name_node || !name_node.IsScalar() || name_node.Scalar().empty())
      fail(src.file, where + ".name", "missing");
    std::string name = name_node.Scalar();
    auto [it, fresh] = here.emplace(name, i);
    if (!fresh)
      fail(src.file, where + ".name",
           "duplicate name \"" + name + "\" (also " + list + "[" + std::to_string(it->second) +
               "])");
    into.emplace(name, Entry{item[inner], &src, where + "." + inner});
  }
}

Merged load_files(const std::string& path_list) {
  std::vector<std::string> files = split_list(path_list);
  if (files.empty()) throw ConfigError("kubeconfig: no file named in \"" + path_list + "\"");
  Merged m;
  m.sources.reserve(files.size());  // entries point into it
  for (const std::string& file : files) {
    std::string text;
    int err = detail::read_file(file, text);
    // Like kubectl, a missing file in a list is skipped; a single named file must exist.
    if (err == ENOENT && files.size() > 1) continue;
    if (err) fail(file, "", std::string("cannot be read: ") + std::strerror(err));
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(file, "",
           "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    fs::path abs(file);
    m.sources.push_back(Source{file, abs.parent_path().string()});
    const Source& src = m.sources.back();
    if (!root || root.IsNull()) continue;  // an empty file is an empty config
    if (!root.IsMap()) fail(file, "", "must be a YAML map (apiVersion: v1, kind: Config)");
    Fields top(root, src, "");
    std::string kind = top.str("kind"), api_version = top.str("apiVersion");
    if (!kind.empty() && kind != "Config")
      fail(file, "kind", "is \"" + kind + "\", expected \"Config\"");
    if (!api_version.empty() && api_version != "v1")
      fail(file, "apiVersion", "is \"" + api_version + "\", expected \"v1\"");
    collect(root, src, "clusters", "cluster", m.clusters);
    collect(root, src, "users", "user", m.users);
    collect(root, src, "contexts", "context", m.contexts);
    YAML::Node cc = root["current-context"];
    if (cc && !cc.IsNull() && !cc.IsScalar()) fail(file, "current-context", "must be a string");
    if (m.current_context.empty() && cc && cc.IsScalar() && !cc.Scalar().empty()) {
      m.current_context = cc.Scalar();
      m.current_context_src = &src;
    }
  }
  if (m.sources.empty())
    throw ConfigError("kubeconfig: none of the files in \"" + path_list + "\" exists");
  return m;
}

std::string normalize_server(const Fields& f) {
  std::string server = f.str("server");
  if (server.empty()) f.fail_at("server", "missing: the cluster has no server");
  // rest.DefaultServerURL: a bare host:port means https.
  if (server.find("://") == std::string::npos) server = "https://" + server;
  std::string scheme = server.substr(0, server.find("://"));
  if (scheme != "https" && scheme != "http")
    f.fail_at("server", "\"" + server + "\" must start with https:// or http://");
  while (server.size() > scheme.size() + 3 && server.back() == '/') server.pop_back();
  if (server.size() <= scheme.size() + 3 || server[scheme.size() + 3] == '/')
    f.fail_at("server", "\"" + server + "\" has no host");
  return server;
}

void read_cluster(const Entry& e, ClusterConfig& out) {
  Fields f(e.body, *e.src, e.where);
  out.server = normalize_server(f);
  out.tls_server_name = f.str("tls-server-name");
  out.proxy_url = f.str("proxy-url");
  out.insecure_skip_tls_verify = f.boolean("insecure-skip-tls-verify");
  bool has_data = f.has("certificate-authority-data"), has_file = f.has("certificate-authority");
  if (has_data && has_file)
    f.fail_at("certificate-authority",
              "both certificate-authority and certificate-authority-data are set; keep one");
  std::string ca_field = has_data ? "certificate-authority-data" : "certificate-authority";
  out.ca_pem = has_data ? f.bytes(ca_field) : f.file_contents(ca_field);
  if (!out.ca_pem.empty()) {
    if (out.insecure_skip_tls_verify)
      f.fail_at("insecure-skip-tls-verify",
                "a certificate authority and insecure-skip-tls-verify are both set; keep one");
    if (std::string why = check_pem(out.ca_pem); !why.empty()) f.fail_at(ca_field, why);
  }
}

ExecConfig read_exec(const Fields& user) {
  Fields f(user.get("exec"), user.src(), user.field("exec"));
  ExecConfig x;
  x.api_version = f.str("apiVersion");
  if (x.api_version.empty()) f.fail_at("apiVersion", "missing");
  if (x.api_version != "client.authentication.k8s.io/v1" &&
      x.api_version != "client.authentication.k8s.io/v1beta1")
    f.fail_at("apiVersion", "\"" + x.api_version +
                                "\" is not supported (client.authentication.k8s.io/v1 or v1beta1)");
  x.command = f.str("command");
  if (x.command.empty()) f.fail_at("command", "missing");
  // clientcmd resolves only commands with a path separator; others are looked up in PATH.
  if (x.command.find('/') != std::string::npos) x.command = resolve(f.src().dir, x.command);
  if (YAML::Node args = f.seq("args")) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (!args[i].IsScalar()) f.fail_at("args[" + std::to_string(i) + "]", "must be a string");
      x.args.push_back(args[i].Scalar());
    }
  }
  if (YAML::Node env = f.seq("env")) {
    for (size_t i = 0; i < env.size(); ++i) {
      Fields var(env[i], f.src(), f.field("env[" + std::to_string(i) + "]"));
      std::string name = var.str("name");
      if (name.empty()) var.fail_at("name", "missing");
      x.env.emplace_back(name, var.str("value"));
    }
  }
  x.install_hint = f.str("installHint");
  x.provide_cluster_info = f.boolean("provideClusterInfo");
  std::string mode = f.str("interactiveMode");
  if (mode.empty()) {
    // v1 made the field required; v1beta1 defaults it.
    if (x.api_version == "client.authentication.k8s.io/v1")
      f.fail_at("interactiveMode", "missing (required by client.authentication.k8s.io/v1)");
    mode = "IfAvailable";
  }
  if (mode == "Always")
    f.fail_at("interactiveMode",
              "\"Always\" needs a terminal, and credential plugins run without one here");
  if (mode != "Never" && mode != "IfAvailable")
    f.fail_at("interactiveMode", "\"" + mode + "\" is not Never, IfAvailable or Always");
  x.interactive_mode = mode;
  return x;
}

// One of `key` (a path) or `key`-data (base64): the PEM text, or "" when neither is set.
std::string pem_field(const Fields& f, const std::string& key) {
  std::string data_key = key + "-data";
  if (f.has(key) && f.has(data_key))
    f.fail_at(key, "both " + key + " and " + data_key + " are set; keep one");
  return f.has(data_key) ? f.bytes(data_key) : f.file_contents(key);
}

void read_user(const Entry& e, ClusterConfig& out) {
  Fields f(e.body, *e.src, e.where);
  for (const char* unsupported : {"as", "as-uid", "as-groups", "as-user-extra"})
    if (f.has(unsupported)) f.fail_at(unsupported, "impersonation is not supported");
  if (f.has("auth-provider")) {
    Fields ap(f.get("auth-provider"), *e.src, f.field("auth-provider"));
    f.fail_at("auth-provider", "auth-provider \"" + ap.str("name") +
                                   "\" is not supported; use an exec credential plugin");
  }
  out.token = f.str("token");
  if (f.has("tokenFile")) {
    // Read now so a wrong path fails at start; Credentials re-reads it when it changes.
    std::string token = f.file_contents("tokenFile", &out.token_file);
    (void)token;
  }
  out.username = f.str("username");
  out.password = f.str("password");
  if ((!out.token.empty() || !out.token_file.empty()) &&
      (!out.username.empty() || !out.password.empty()))
    f.fail_at("username", "more than one authentication method (token and basic auth); keep one");

  out.client_cert_pem = pem_field(f, "client-certificate");
  out.client_key_pem = pem_field(f, "client-key");
  if (!out.client_cert_pem.empty() && out.client_key_pem.empty())
    f.fail_at("client-key", "missing: client-certificate needs client-key or client-key-data");
  if (out.client_cert_pem.empty() && !out.client_key_pem.empty())
    f.fail_at("client-certificate",
              "missing: client-key needs client-certificate or client-certificate-data");
  if (!out.client_cert_pem.empty()) {
    if (std::string why = check_pem(out.client_cert_pem, out.client_key_pem); !why.empty())
      f.fail_at(f.has("client-key-data") ? "client-key-data" : "client-key", why);
  }
  if (f.has("exec")) out.exec = read_exec(f);
}

}  // namespace

ClusterConfig load_kubeconfig(const std::string& path, const std::string& context) {
  Merged m = load_files(path);
  std::vector<std::string> names;
  for (const auto& s : m.sources) names.push_back(s.file);
  std::string label = join(names, ":");

  std::string ctx_name = context.empty() ? m.current_context : context;
  if (ctx_name.empty())
    fail(label, "current-context", "not set, and no context was chosen (--context)");
  auto ctx = m.contexts.find(ctx_name);
  if (ctx == m.contexts.end()) {
    std::vector<std::string> known;
    for (const auto& [name, _] : m.contexts) known.push_back(name);
    std::string msg = "context \"" + ctx_name + "\" is not defined (contexts: " +
                      (known.empty() ? "none" : join(known, ", ")) + ")";
    if (context.empty()) fail(m.current_context_src->file, "current-context", msg);
    fail(label, "", msg + ", named by --context");
  }
  Fields c(ctx->second.body, *ctx->second.src, ctx->second.where);
  std::string cluster_name = c.str("cluster"), user_name = c.str("user");
  if (cluster_name.empty()) c.fail_at("cluster", "missing");
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end())
    c.fail_at("cluster", "cluster \"" + cluster_name + "\" is not defined in clusters");

  ClusterConfig out;
  out.source = "kubeconfig " + label + " (context " + ctx_name + ")";
  std::string ns = c.str("namespace");
  if (!ns.empty()) out.namespace_name = ns;
  read_cluster(cluster->second, out);
  // An empty user means no credentials (a proxy, or an anonymous server); a named one must exist.
  if (!user_name.empty()) {
    auto user = m.users.find(user_name);
    if (user == m.users.end())
      c.fail_at("user", "user \"" + user_name + "\" is not defined in users");
    read_user(user->second, out);
  }
  return out;
}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string home_dir() {
  if (std::string home = env("HOME"); !home.empty()) return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "";
}

}  // namespace

// controller-runtime's order (config.GetConfigWithContext), which kubectl users expect.
ClusterConfig load_config(const std::string& kubeconfig_flag, const std::string& context_flag,
                          const std::string& service_account_dir) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context_flag);
  if (std::string list = env("KUBECONFIG"); !list.empty())
    return load_kubeconfig(list, context_flag);

  std::string in_cluster_problem = "not in a pod (KUBERNETES_SERVICE_HOST is not set)";
  if (!env("KUBERNETES_SERVICE_HOST").empty()) {
    if (!context_flag.empty()) {
      in_cluster_problem = "in-cluster config skipped because --context was given";
    } else {
      try {
        return in_cluster_config(service_account_dir);
      } catch (const ConfigError& e) {
        in_cluster_problem = e.what();
      }
    }
  }
  std::string home = home_dir();
  std::string path = home.empty() ? "" : home + "/.kube/config";
  struct stat st {};
  if (!path.empty() && (::stat(path.c_str(), &st) == 0 || errno != ENOENT)) {
    if (!env("KUBERNETES_SERVICE_HOST").empty() && context_flag.empty())
      spdlog::warn("kube: {}; using {}", in_cluster_problem, path);
    return load_kubeconfig(path, context_flag);
  }
  throw ConfigError(
      "no Kubernetes configuration found: no --kubeconfig flag, KUBECONFIG is not set, " +
      in_cluster_problem + ", and " +
      (path.empty() ? std::string("no home folder for ~/.kube/config") : path + " does not exist"));
}

}  // namespace rc::kube

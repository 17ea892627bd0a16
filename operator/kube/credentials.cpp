// Credentials as client-go's transport applies them: a token file re-read when the kubelet rotates
// it, static token, basic auth, client certificate, or an exec plugin (ExecCredential v1/v1beta1)
// run with posix_spawn, cached until status.expirationTimestamp or a 401.
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "remotecode/kube/config.h"
#include "remotecode/kube/exec_credential.h"
#include "remotecode/util/encoding.h"

extern char** environ;

namespace rc::kube {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Keeps OpenSSL from prompting on a terminal for the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string trim(std::string s) {
  const char* space = " \t\r\n";
  s.erase(0, s.find_first_not_of(space));
  s.erase(s.find_last_not_of(space) + 1);
  return s;
}

// A plugin's stderr in an error message: trimmed and bounded.
std::string stderr_excerpt(const std::string& err) {
  std::string t = trim(err);
  if (t.empty()) return "no output on stderr";
  constexpr size_t kMax = 2000;
  if (t.size() > kMax) t = t.substr(0, kMax) + "...";
  return "stderr: " + t;
}

// What identifies one version of a file: a rotation by rename changes the inode, a rewrite in
// place the size or the times (nanoseconds).
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  long mtime_s = 0, mtime_ns = 0, ctime_s = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const struct stat& st) {
  return FileStamp{st.st_dev,          st.st_ino,         st.st_size,        st.st_mtim.tv_sec,
                   st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
}

using ExecCred = ExecCredential;

struct RunResult {
  std::string out, err;
  int status = 0;
};

// Closes a file descriptor once.
struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

std::string check_pem(const std::string& cert_pem, const std::string& key_pem) {
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
  Bio cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cb.get(), nullptr, no_passphrase, nullptr), X509_free);
  ERR_clear_error();
  if (!cert) return "no PEM certificate found";
  if (key_pem.empty()) return "";
  Bio kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(kb.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  ERR_clear_error();
  if (!key) return "no PEM private key found (encrypted keys are not supported)";
  int match = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (match != 1) return "the private key does not match the certificate";
  return "";
}

struct Credentials::Impl {
  ClusterConfig cfg;
  CredentialOptions opts;
  std::mutex mu;

  // The token file as last read successfully.
  bool have_file_token = false;
  std::string file_token;
  FileStamp file_stamp;
  SteadyClock::time_point file_read_at;
  bool file_warned = false;

  std::optional<ExecCred> exec_cache;

  util::SystemTime now() const { return opts.now ? opts.now() : std::chrono::system_clock::now(); }

  // client-go skips the plugin when the config already carries credentials.
  bool exec_active() const {
    return cfg.exec && cfg.token.empty() && cfg.token_file.empty() && cfg.username.empty() &&
           cfg.password.empty() && cfg.client_cert_pem.empty();
  }

  // The token file's content, re-read when its stamp changes (or a minute has passed, as
  // client-go's cached file token source does). On failure: the last good token, then the
  // static token.
  std::string file_token_locked() {
    std::string problem;
    struct stat st {};
    if (::stat(cfg.token_file.c_str(), &st) != 0) {
      problem = std::strerror(errno);
    } else {
      FileStamp stamp = stamp_of(st);
      auto now = SteadyClock::now();
      if (have_file_token && stamp == file_stamp && now - file_read_at < std::chrono::minutes(1))
        return file_token;
      std::string text;
      if (int err = detail::read_file(cfg.token_file, text)) {
        problem = std::strerror(err);
      } else if (text = trim(text); text.empty()) {
        problem = "the file is empty";
      } else {
        if (have_file_token && text != file_token)
          spdlog::debug("kube: token file {} changed; using the new token", cfg.token_file);
        file_token = std::move(text);
        file_stamp = stamp;
        file_read_at = now;
        have_file_token = true;
        file_warned = false;
        return file_token;
      }
    }
    std::string msg = "token file \"" + cfg.token_file + "\" cannot be read: " + problem;
    if (have_file_token || !cfg.token.empty()) {
      if (!file_warned)
        spdlog::warn("kube: {}; using {}", msg,
                     have_file_token ? "the token read before" : "the configured token");
      file_warned = true;
      return have_file_token ? file_token : cfg.token;
    }
    throw CredentialError(cfg.source + ": " + msg);
  }

  const ExecCred& exec_cred_locked() {
    if (exec_cache && (!exec_cache->expiry || now() <= *exec_cache->expiry)) return *exec_cache;
    exec_cache.reset();
    exec_cache = run_plugin_locked();
    return *exec_cache;
  }

  std::string header_locked() {
    if (!cfg.token_file.empty()) return "Bearer " + file_token_locked();
    if (!cfg.token.empty()) return "Bearer " + cfg.token;
    if (!cfg.username.empty() || !cfg.password.empty())
      return "Basic " + util::base64_encode(cfg.username + ":" + cfg.password);
    if (exec_active()) {
      const ExecCred& c = exec_cred_locked();
      if (!c.token.empty()) return "Bearer " + c.token;
    }
    return "";
  }

  std::string exec_info() const {
    const ExecConfig& x = *cfg.exec;
    json spec = {{"interactive", false}};
    if (x.provide_cluster_info) {
      json c = {{"server", cfg.server}};
      if (!cfg.tls_server_name.empty()) c["tls-server-name"] = cfg.tls_server_name;
      if (cfg.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
      if (!cfg.ca_pem.empty()) c["certificate-authority-data"] = util::base64_encode(cfg.ca_pem);
      if (!cfg.proxy_url.empty()) c["proxy-url"] = cfg.proxy_url;
      spec["cluster"] = std::move(c);
    }
    return json{{"apiVersion", x.api_version}, {"kind", "ExecCredential"}, {"spec", spec}}.dump();
  }

  [[noreturn]] void plugin_fail(const std::string& msg) const {
    throw CredentialError("exec plugin \"" + cfg.exec->command + "\" for " + cfg.source + ": " +
                          msg);
  }

  RunResult spawn_and_wait() const {
    const ExecConfig& x = *cfg.exec;
    // Our environment, then the kubeconfig's env (later wins, as with Go's exec.Cmd), then the
    // request.
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : x.env) env[k] = v;
    env["KUBERNETES_EXEC_INFO"] = exec_info();
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args{x.command};
    args.insert(args.end(), x.args.begin(), x.args.end());
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);

    int out_p[2], err_p[2];
    if (::pipe2(out_p, O_CLOEXEC) != 0) plugin_fail(std::string("pipe: ") + std::strerror(errno));
    Fd out_r{out_p[0]}, out_w{out_p[1]};
    if (::pipe2(err_p, O_CLOEXEC) != 0) plugin_fail(std::string("pipe: ") + std::strerror(errno));
    Fd err_r{err_p[0]}, err_w{err_p[1]};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    // Never interactive: no terminal, no stdin.
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills what it started too; default signal handling
    // and an empty mask whatever our threads block or ignore.
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t mask, defaults;
    sigemptyset(&mask);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    pid_t pid = 0;
    // posix_spawnp looks the command up in our PATH, as Go's exec.LookPath does.
    int rc = ::posix_spawnp(&pid, x.command.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    out_w.reset();
    err_w.reset();
    if (rc == ENOENT) {
      std::string hint =
          x.install_hint.empty()
              ? "It looks like you are trying to use a client-go credential plugin that is not "
                "installed. See https://kubernetes.io/docs/reference/access-authn-authz/"
                "authentication/#client-go-credential-plugins"
              : x.install_hint;
      plugin_fail("executable " + x.command + " not found\n\n" + hint);
    }
    if (rc != 0) plugin_fail("cannot run " + x.command + ": " + std::strerror(rc));

    spdlog::debug("kube: ran exec credential plugin {} (pid {}) for {}", x.command, pid,
                  cfg.source);
    RunResult r;
    auto deadline = SteadyClock::now() + opts.exec_timeout;
    auto kill_and_fail = [&](const std::string& why) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      int ignored = 0;
      while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
      }
      plugin_fail(why + "; " + stderr_excerpt(r.err));
    };
    auto timeout_text = [&] {
      return "did not finish within " + std::to_string(opts.exec_timeout.count()) +
             "ms and was killed";
    };
    constexpr size_t kMaxOutput = 4 << 20;
    while (out_r.fd >= 0 || err_r.fd >= 0) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) kill_and_fail(timeout_text());
      pollfd fds[2];
      nfds_t n = 0;
      for (Fd* f : {&out_r, &err_r})
        if (f->fd >= 0) fds[n++] = pollfd{f->fd, POLLIN, 0};
      int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count() + 1, 1000)));
      if (ready < 0 && errno != EINTR) kill_and_fail(std::string("poll: ") + std::strerror(errno));
      if (ready <= 0) continue;
      for (nfds_t i = 0; i < n; ++i) {
        if (!fds[i].revents) continue;
        Fd& f = fds[i].fd == out_r.fd ? out_r : err_r;
        std::string& into = &f == &out_r ? r.out : r.err;
        char buf[8192];
        ssize_t got = ::read(f.fd, buf, sizeof buf);
        if (got > 0) {
          into.append(buf, static_cast<size_t>(got));
          if (into.size() > kMaxOutput) kill_and_fail("wrote more than 4 MiB");
        } else if (got == 0 || errno != EINTR) {
          f.reset();
        }
      }
    }
    // Both pipes closed; the process may still be finishing.
    for (;;) {
      pid_t w = ::waitpid(pid, &r.status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) plugin_fail(std::string("waitpid: ") + std::strerror(errno));
      if (SteadyClock::now() >= deadline) kill_and_fail(timeout_text());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return r;
  }

  ExecCred run_plugin_locked() const {
    const ExecConfig& x = *cfg.exec;
    RunResult r = spawn_and_wait();
    if (WIFSIGNALED(r.status))
      plugin_fail("killed by signal " + std::to_string(WTERMSIG(r.status)) + "; " +
                  stderr_excerpt(r.err));
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
      plugin_fail("failed with exit code " + std::to_string(WEXITSTATUS(r.status)) + "; " +
                  stderr_excerpt(r.err));

    try {
      return parse_exec_credential(r.out, x.api_version);
    } catch (const CredentialError& e) {
      plugin_fail(e.what());
    }
  }
};

Credentials::Credentials(ClusterConfig cfg, CredentialOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->opts = std::move(options);
}

Credentials::~Credentials() = default;

const ClusterConfig& Credentials::config() const {
  return impl_->cfg;
}

std::string Credentials::authorization_header() {
  std::lock_guard lock(impl_->mu);
  return impl_->header_locked();
}

std::optional<Credentials::ClientCert> Credentials::client_certificate() {
  std::lock_guard lock(impl_->mu);
  const ClusterConfig& cfg = impl_->cfg;
  if (!cfg.client_cert_pem.empty()) return ClientCert{cfg.client_cert_pem, cfg.client_key_pem};
  if (impl_->exec_active()) {
    const ExecCred& c = impl_->exec_cred_locked();
    if (!c.cert_pem.empty()) return ClientCert{c.cert_pem, c.key_pem};
  }
  return std::nullopt;
}

void Credentials::invalidate() {
  std::lock_guard lock(impl_->mu);
  impl_->exec_cache.reset();
  impl_->file_stamp = FileStamp{};  // re-read the token file at the next call
}

void Credentials::invalidate(const std::string& rejected_header) {
  std::lock_guard lock(impl_->mu);
  impl_->file_stamp = FileStamp{};
  if (!impl_->exec_cache) return;
  const std::string& token = impl_->exec_cache->token;
  std::string current = token.empty() ? "" : "Bearer " + token;
  // Another request already got the plugin run again: keep its fresh credential.
  if (rejected_header == current) impl_->exec_cache.reset();
}

}  // namespace rc::kube

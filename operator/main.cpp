// remote-code: `operator`, `sim` and `dev` commands. Parses flags and wires modules; nothing else.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "remotecode/controllers/config.h"
#include "remotecode/controllers/template.h"
#include "remotecode/controllers/trainingjob.h"
#include "remotecode/controllers/workspace.h"
#include "remotecode/dev/environment.h"
#include "remotecode/kube/client.h"
#include "remotecode/portal/client_address.h"
#include "remotecode/portal/portal.h"
#include "remotecode/runtime/manager.h"
#include "remotecode/sim/simulator.h"
#include "remotecode/util/logging.h"

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: remote-code <command> [flags]\n"
    "commands:\n"
    "  sim       a simulated Kubernetes API server with GPU nodes (for development and tests)\n"
    "  operator  the operator: reconciles Templates, Workspaces and TrainingJobs\n"
    "  dev       the simulator, the operator and the portal in one process, with the CRDs\n"
    "            and example templates applied\n"
    "Run `remote-code <command> --help` for its flags.\n";

// Blocks SIGINT/SIGTERM in every thread and waits for one in the caller.
void wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// REMOTE_CODE_<FLAG> (upper case, '-' as '_') fills a flag not given on the command line.
std::string env_name(const std::string& flag) {
  std::string out = "REMOTE_CODE_";
  for (char c : flag)
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

po::variables_map parse(int argc, char** argv, const po::options_description& d, const char* cmd) {
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, d), vm);
  po::store(po::parse_environment(d,
                                  [&](const std::string& env) -> std::string {
                                    for (const auto& opt : d.options())
                                      if (env_name(opt->long_name()) == env)
                                        return opt->long_name();
                                    return "";
                                  }),
            vm);
  po::notify(vm);
  (void)cmd;
  return vm;
}

// The flags that become rc::controllers::OperatorConfig (the Helm values mirror them).
void add_controller_flags(po::options_description& d, rc::controllers::OperatorConfig& c,
                          std::string& gpu_sharing, std::string& mig_profiles,
                          std::string& smtp_password_file) {
  rc::controllers::OperatorConfig defaults;
  d.add_options()("namespace", po::value(&c.namespace_name)->default_value(defaults.namespace_name),
                  "the operator's namespace: template builds and share-link Secrets live here")(
      "builder-image", po::value(&c.builder_image)->default_value(defaults.builder_image),
      "image that builds templates in-cluster (Kaniko executor)")(
      "registry", po::value(&c.registry)->default_value(defaults.registry),
      "repository prefix built template images are pushed to (<registry>/<template>:<hash>)")(
      "registry-push-secret", po::value(&c.registry_push_secret),
      "kubernetes.io/dockerconfigjson Secret (in --namespace) the builder pushes with")(
      "insecure-registry", po::bool_switch(&c.insecure_registry),
      "push to the registry over plain HTTP / without verifying TLS")(
      "default-base-image",
      po::value(&c.default_base_image)->default_value(defaults.default_base_image),
      "base image of template builds that name none (CUDA + cuDNN)")(
      "git-image", po::value(&c.git_image)->default_value(defaults.git_image),
      "image with git that clones repositories into workspaces and jobs")(
      "ingress-class", po::value(&c.ingress_class)->default_value(defaults.ingress_class),
      "ingressClassName of workspace Ingresses")("ingress-host", po::value(&c.ingress_host),
                                                 "host of workspace URLs (default: any host)")(
      "ingress-tls-secret", po::value(&c.ingress_tls_secret),
      "TLS Secret for --ingress-host (default: plain HTTP)")(
      "auth-url", po::value(&c.auth_url)->default_value(defaults.auth_url),
      "the portal's forward-auth endpoint, as the ingress controller reaches it")(
      "auth-signin-url", po::value(&c.auth_signin_url)->default_value(defaults.auth_signin_url),
      "where the ingress controller sends people who are not signed in")(
      "ingress-namespace",
      po::value(&c.ingress_namespace)->default_value(defaults.ingress_namespace),
      "namespace of the ingress controller (the only source workspace NetworkPolicies admit)")(
      "storage-class", po::value(&c.storage_class),
      "storageClassName of workspace home volumes (default: the cluster's default)")(
      "datasets-claim", po::value(&c.datasets_claim)->default_value(defaults.datasets_claim),
      "PVC name mounted read-only at /data when it exists in the namespace; empty disables")(
      "gpu-sharing", po::value(&gpu_sharing)->default_value("none"),
      "how gpuMemoryMiB is requested: none (whole GPUs), mig, hami")(
      "mig-profiles", po::value(&mig_profiles)->default_value("1g.10gb,2g.20gb,3g.40gb,7g.80gb"),
      "MIG profiles the nodes offer, smallest first (with --gpu-sharing mig)")(
      "max-running-jobs", po::value(&c.max_running_jobs)->default_value(0),
      "training-job runs admitted at once in the whole cluster; 0 is unlimited")(
      "metrics-poll-seconds", po::value(&c.metrics_poll_seconds)->default_value(30),
      "how often a running job's log is read for metric lines")(
      "notify-webhook-url", po::value(&c.notify_webhook_url),
      "POST a JSON document here when a training job ends")(
      "smtp-url", po::value(&c.smtp_url),
      "mail server for job notifications (smtp://host:587 or smtps://host:465)")(
      "smtp-from", po::value(&c.smtp_from), "sender address of notification mail")(
      "smtp-user", po::value(&c.smtp_user), "SMTP user name")(
      "smtp-password-file", po::value(&smtp_password_file),
      "file holding the SMTP password (kept out of flags and logs)")(
      "portal-url", po::value(&c.portal_url), "the portal's external URL, for links in mail");
}

// Validates and completes the parsed controller flags; throws std::invalid_argument.
void finish_controller_config(rc::controllers::OperatorConfig& c, const std::string& gpu_sharing,
                              const std::string& mig_profiles,
                              const std::string& smtp_password_file) {
  if (gpu_sharing == "none")
    c.gpu_sharing = rc::controllers::GpuSharing::None;
  else if (gpu_sharing == "mig")
    c.gpu_sharing = rc::controllers::GpuSharing::Mig;
  else if (gpu_sharing == "hami")
    c.gpu_sharing = rc::controllers::GpuSharing::Hami;
  else
    throw std::invalid_argument("--gpu-sharing must be none, mig or hami");
  c.mig_profiles.clear();
  std::stringstream ss(mig_profiles);
  for (std::string p; std::getline(ss, p, ',');)
    if (!p.empty()) c.mig_profiles.push_back(p);
  if (c.max_running_jobs < 0) throw std::invalid_argument("--max-running-jobs must be >= 0");
  if (c.metrics_poll_seconds < 1)
    throw std::invalid_argument("--metrics-poll-seconds must be >= 1");
  if (!smtp_password_file.empty()) {
    std::ifstream in(smtp_password_file);
    if (!in) throw std::invalid_argument("cannot read --smtp-password-file " + smtp_password_file);
    std::getline(in, c.smtp_password);
  }
}

struct PortalFlags {
  std::string initial_admins;  // comma-separated
  std::string initial_admin_password_file;
};

void add_portal_flags(po::options_description& d, rc::portal::PortalOptions& p, PortalFlags& f,
                      bool with_bind_address) {
  if (with_bind_address)
    d.add_options()("portal-bind-address", po::value(&p.bind_address)->default_value(":8080"),
                    "the portal's address (pages, JSON API, forward-auth); 0 disables");
  d.add_options()("initial-admins", po::value(&f.initial_admins),
                  "comma-separated portal admins made at start when they do not exist yet")(
      "initial-admin-password-file", po::value(&f.initial_admin_password_file),
      "file whose first line is the initial admins' password")(
      "auth-header", po::value(&p.auth_header),
      "trusted-header mode: an authenticating proxy names the user in this header "
      "(e.g. X-Forwarded-User); believed only from --trusted-proxies")(
      "trusted-proxies", po::value(&p.trusted_proxies),
      "comma-separated CIDRs of proxies in front of the portal whose X-Forwarded-For (for "
      "sign-in limits) and --auth-header are believed")(
      "user-namespace-prefix", po::value(&p.user_namespace_prefix)->default_value("rc-"),
      "each portal user's namespace is <prefix><user>")(
      "default-gpu-quota", po::value(&p.default_gpu_quota)->default_value("4"),
      "requests.nvidia.com/gpu of the ResourceQuota in each new user's namespace")(
      "default-pod-quota", po::value(&p.default_pod_quota)->default_value("50"),
      "pods of that ResourceQuota (bounds CPU-only runs too); empty for none")(
      "default-cpu-quota", po::value(&p.default_cpu_quota),
      "requests.cpu of that ResourceQuota (then every pod there must request CPU, as the "
      "operator's do when the template or job gives resources.cpu); empty for none")(
      "default-memory-quota", po::value(&p.default_memory_quota),
      "requests.memory of that ResourceQuota (likewise); empty for none")(
      "session-ttl-seconds", po::value(&p.session_ttl_seconds)->default_value(43200),
      "how long a portal sign-in lasts")(
      "login-max-failures", po::value(&p.login_max_failures)->default_value(5),
      "failed sign-ins per user and per address before they must wait")(
      "login-window-seconds", po::value(&p.login_window_seconds)->default_value(300),
      "the window failed sign-ins are counted in")(
      "datasets-dir", po::value(&p.datasets_dir),
      "where the operator mounts the datasets volume (enables /api/v1/datasets)")(
      "max-connections-per-client", po::value(&p.max_connections_per_client)->default_value(64),
      "open portal connections one client address may hold (trusted proxies are not limited)")(
      "request-header-timeout-seconds",
      po::value(&p.request_header_timeout_seconds)->default_value(30),
      "a portal request's whole header must arrive within this time (its body within twice "
      "it), however slowly it trickles in")(
      "allow-any-image", po::bool_switch(&p.allow_any_image),
      "let portal users who are not admins run any image in a job (else only the images of "
      "templates they may use)")(
      "max-upload-bytes", po::value(&p.max_upload_bytes)->default_value(100ull << 30),
      "largest dataset upload")("webui-dir", po::value(&p.webui_dir),
                                "serve the pages from this folder instead of the built-in copy");
}

void finish_portal_options(rc::portal::PortalOptions& p, const PortalFlags& f) {
  std::stringstream ss(f.initial_admins);
  for (std::string name; std::getline(ss, name, ',');)
    if (!name.empty()) p.initial_admins.push_back(name);
  if (!f.initial_admin_password_file.empty()) {
    std::ifstream in(f.initial_admin_password_file);
    if (!in)
      throw std::invalid_argument("cannot read --initial-admin-password-file " +
                                  f.initial_admin_password_file);
    std::getline(in, p.initial_admin_password);
  }
  if (p.session_ttl_seconds < 1) throw std::invalid_argument("--session-ttl-seconds must be >= 1");
  rc::portal::TrustedProxies proxies(p.trusted_proxies);  // throws on a bad CIDR
  if (!p.auth_header.empty() && proxies.empty())
    throw std::invalid_argument("--auth-header needs --trusted-proxies (the proxy's addresses)");
  if (p.login_max_failures < 1) throw std::invalid_argument("--login-max-failures must be >= 1");
  if (p.login_window_seconds < 1)
    throw std::invalid_argument("--login-window-seconds must be >= 1");
}

int run_operator(int argc, char** argv) {
  std::string kubeconfig, context, log_level, log_format;
  rc::kube::ClientOptions co;
  rc::runtime::ManagerOptions mo;
  rc::controllers::OperatorConfig cc;
  std::string gpu_sharing, mig_profiles, smtp_password_file;
  rc::portal::PortalOptions portal_options;
  PortalFlags portal_flags;
  po::options_description d("remote-code operator flags");
  d.add_options()("help", "show this help")(
      "kubeconfig", po::value(&kubeconfig),
      "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)")(
      "context", po::value(&context), "kubeconfig context (default: the current one)")(
      "leader-elect", po::bool_switch(&mo.leader_elect),
      "run controllers only on the holder of a coordination.k8s.io Lease")(
      "leader-election-namespace", po::value(&mo.leader_election.namespace_name),
      "namespace of the Lease (default: the operator's own)")(
      "leader-election-id", po::value(&mo.leader_election.lease_name)->default_value("remote-code"),
      "name of the Lease")("metrics-bind-address",
                           po::value(&mo.metrics_bind_address)->default_value(":9090"),
                           "Prometheus metrics address; 0 disables")(
      "health-probe-bind-address", po::value(&mo.health_probe_bind_address)->default_value(":8081"),
      "/healthz and /readyz address; 0 disables")(
      "workers", po::value(&mo.workers)->default_value(2), "reconcile workers per controller")(
      "kube-qps", po::value(&co.qps)->default_value(20), "sustained API requests per second")(
      "kube-burst", po::value(&co.burst)->default_value(30), "API request burst")(
      "log-level", po::value(&log_level)->default_value("info"), "trace, debug, info, warn, error")(
      "log-format", po::value(&log_format)->default_value("text"), "text or json");
  add_controller_flags(d, cc, gpu_sharing, mig_profiles, smtp_password_file);
  add_portal_flags(d, portal_options, portal_flags, true);
  try {
    auto vm = parse(argc, argv, d, "operator");
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    if (log_format != "text" && log_format != "json")
      throw std::invalid_argument("--log-format must be text or json");
    finish_controller_config(cc, gpu_sharing, mig_profiles, smtp_password_file);
    finish_portal_options(portal_options, portal_flags);
  } catch (const std::exception& e) {
    std::cerr << "remote-code operator: " << e.what() << "\n" << d << "\n";
    return 2;
  }
  rc::util::setup_logging(log_level, log_format);
  block_signals();
  std::shared_ptr<rc::kube::Client> client;
  try {
    auto config = rc::kube::load_config(kubeconfig, context);
    if (mo.leader_election.namespace_name.empty())
      mo.leader_election.namespace_name = config.namespace_name;
    co.user_agent = "remote-code";
    co.field_manager = "remote-code";
    client = rc::kube::Client::connect(config, co);
    spdlog::info("operator: using {}", config.source);
  } catch (const std::exception& e) {
    std::cerr << "remote-code operator: " << e.what() << "\n";
    return 1;
  }
  if (mo.leader_election.namespace_name.empty())
    mo.leader_election.namespace_name = cc.namespace_name;
  rc::runtime::Manager manager(client, mo);
  auto events = std::make_shared<rc::controllers::EventRecorder>(client, "remote-code");
  rc::controllers::add_template_controller(manager, cc, events);
  rc::controllers::add_workspace_controller(manager, cc, events);
  rc::controllers::add_trainingjob_controller(manager, cc, events);
  rc::portal::Portal portal(manager, cc, portal_options);
  try {
    manager.start();
    portal.start();
  } catch (const std::exception& e) {
    std::cerr << "remote-code operator: " << e.what() << "\n";
    return 1;
  }
  std::cout << "remote-code operator: started (metrics :" << manager.metrics_port()
            << ", probes :" << manager.health_port() << ", portal :" << portal.port() << ")"
            << std::endl;
  std::thread waiter([&] {
    wait_for_signal();
    spdlog::info("operator: stopping");
    portal.stop();
    manager.stop();
  });
  bool clean = manager.wait();
  portal.stop();
  manager.stop();
  if (!clean) {
    // Controllers must not run without the lease: exit and let the Deployment restart us.
    spdlog::error("operator: lost the leader lease; exiting");
    std::_Exit(1);
  }
  waiter.join();
  return 0;
}

int run_sim(int argc, char** argv) {
  rc::sim::SimulatorOptions o;
  std::string fault500, fault429, log_level;
  po::options_description d("remote-code sim flags");
  d.add_options()("help", "show this help")("listen",
                                            po::value(&o.listen)->default_value("127.0.0.1:0"),
                                            "address to serve on; port 0 picks a free port")(
      "kubeconfig-out", po::value(&o.kubeconfig_out), "write a kubeconfig for this server here")(
      "pki-out", po::value(&o.pki_out),
      "write ca.crt and a client certificate (client.crt, client.key) here")(
      "insecure-http", po::bool_switch(&o.insecure_http), "serve plain HTTP instead of HTTPS")(
      "openapi-dir", po::value(&o.openapi_dir),
      "folder of Kubernetes OpenAPI v3 documents for built-in types")(
      "token", po::value(&o.token),
      "bearer token to accept (default: a random one, written to the kubeconfig)")(
      "history", po::value(&o.history)->default_value(10000),
      "changes kept for watches; older resourceVersions get 410 Expired")(
      "bookmark-interval-seconds", po::value(&o.bookmark_interval_seconds)->default_value(60),
      "how often watches that allow bookmarks get one")(
      "gpu-nodes", po::value(&o.cluster.gpu_nodes)->default_value(2),
      "nodes with nvidia.com/gpu capacity")("gpus-per-node",
                                            po::value(&o.cluster.gpus_per_node)->default_value(4),
                                            "nvidia.com/gpu per GPU node")(
      "cpu-nodes", po::value(&o.cluster.cpu_nodes)->default_value(1), "nodes without GPUs")(
      "gpu-product", po::value(&o.cluster.gpu_product)->default_value("NVIDIA-A100-SXM4-80GB"),
      "nvidia.com/gpu.product label of GPU nodes")(
      "pod-start-seconds", po::value(&o.cluster.pod_start_seconds)->default_value(0.5),
      "time from a pod's binding to Running")(
      "job-backoff-seconds", po::value(&o.cluster.job_backoff_seconds)->default_value(10),
      "delay before a failed Job pod is replaced; doubles per failure, capped at 360")(
      "job-run-seconds", po::value(&o.cluster.job_run_seconds)->default_value(-1),
      "how long a Job's pod runs unless scripted otherwise, then succeeds; negative: for ever")(
      "fault-500", po::value(&fault500),
      "rate of injected 500s: 0.1 for every verb, or list=0.1,create=0.05")(
      "fault-429", po::value(&fault429), "rate of injected 429s (with Retry-After), same form")(
      "fault-retry-after-seconds", po::value(&o.faults.retry_after_seconds)->default_value(1),
      "Retry-After of injected 429s")("fault-latency-ms",
                                      po::value(&o.faults.latency_ms)->default_value(0),
                                      "latency added to every resource request")(
      "fault-close-watch-seconds", po::value(&o.faults.close_watch_seconds)->default_value(0),
      "close every watch after this many seconds (0: never)")(
      "log-level", po::value(&log_level)->default_value("info"), "trace, debug, info, warn, error");
  try {
    auto vm = parse(argc, argv, d, "sim");
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    o.faults.error_500 = rc::sim::Faults::parse_rates(fault500);
    o.faults.error_429 = rc::sim::Faults::parse_rates(fault429);
  } catch (const std::exception& e) {
    std::cerr << "remote-code sim: " << e.what() << "\n" << d << "\n";
    return 2;
  }
  rc::util::setup_logging(log_level, "text");
  block_signals();
  rc::sim::Simulator sim(o);
  try {
    sim.start();
  } catch (const std::exception& e) {
    std::cerr << "remote-code sim: " << e.what() << "\n";
    return 1;
  }
  std::cout << "remote-code sim: ready at " << sim.url()
            << (o.kubeconfig_out.empty() ? "" : " (kubeconfig: " + o.kubeconfig_out + ")")
            << std::endl;
  wait_for_signal();
  spdlog::info("remote-code sim: stopping");
  sim.stop();
  return 0;
}

}  // namespace

int run_dev(int argc, char** argv) {
  rc::dev::DevOptions o;
  std::string log_level, gpu_sharing, mig_profiles, smtp_password_file;
  PortalFlags portal_flags;
  o.sim.listen = "127.0.0.1:6443";
  po::options_description d("remote-code dev flags");
  d.add_options()("help", "show this help")(
      "listen", po::value(&o.sim.listen)->default_value(o.sim.listen),
      "address of the simulated API server; port 0 picks a free port")(
      "state-dir", po::value(&o.state_dir)->default_value(o.state_dir),
      "folder for the kubeconfig and the cluster's objects, kept across restarts")(
      "openapi-dir", po::value(&o.sim.openapi_dir),
      "folder of Kubernetes OpenAPI v3 documents (kubectl explain for built-in types)")(
      "gpu-nodes", po::value(&o.sim.cluster.gpu_nodes)->default_value(2), "simulated GPU nodes")(
      "gpus-per-node", po::value(&o.sim.cluster.gpus_per_node)->default_value(4),
      "nvidia.com/gpu per GPU node")(
      "cpu-nodes", po::value(&o.sim.cluster.cpu_nodes)->default_value(1), "nodes without GPUs")(
      "pod-start-seconds", po::value(&o.sim.cluster.pod_start_seconds)->default_value(2.0),
      "how long a simulated pod takes to start")(
      "job-run-seconds", po::value(&o.sim.cluster.job_run_seconds)->default_value(5.0),
      "how long a Job's pod runs unless scripted otherwise, then succeeds; negative: for ever")(
      "portal-listen", po::value(&o.portal.bind_address)->default_value("127.0.0.1:8080"),
      "address of the portal; port 0 picks a free port")(
      "log-level", po::value(&log_level)->default_value("warn"), "trace, debug, info, warn, error");
  add_controller_flags(d, o.controllers, gpu_sharing, mig_profiles, smtp_password_file);
  add_portal_flags(d, o.portal, portal_flags, false);
  try {
    auto vm = parse(argc, argv, d, "dev");
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    finish_controller_config(o.controllers, gpu_sharing, mig_profiles, smtp_password_file);
    finish_portal_options(o.portal, portal_flags);
  } catch (const std::exception& e) {
    std::cerr << "remote-code dev: " << e.what() << "\n" << d << "\n";
    return 2;
  }
  rc::util::setup_logging(log_level, "text");
  block_signals();
  rc::dev::Environment env(o);
  try {
    env.start();
  } catch (const std::exception& e) {
    std::cerr << "remote-code dev: " << e.what() << "\n";
    return 1;
  }
  std::string kubeconfig = std::filesystem::absolute(env.kubeconfig_path()).string();
  std::cout << "remote-code dev: ready\n"
            << "  simulated Kubernetes API: " << env.api_url() << "\n"
            << "  kubeconfig:               " << kubeconfig << "\n"
            << "  try, in another terminal: export KUBECONFIG=" << kubeconfig
            << "; kubectl get templates,workspaces,trainingjobs\n"
            << "  portal:                   " << env.portal_url() << "\n"
            << "  admin user:               " << env.admin_user() << "\n"
            << "  admin password:           " << env.admin_password() << "\n"
            << "Press Ctrl-C to stop." << std::endl;
  wait_for_signal();
  std::cout << "remote-code dev: stopping" << std::endl;
  env.stop();
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "sim") return run_sim(argc - 1, argv + 1);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "operator") return run_operator(argc - 1, argv + 1);
  if (cmd == "dev") return run_dev(argc - 1, argv + 1);
  std::cerr << "remote-code: unknown command \"" << cmd << "\"\n" << kUsage;
  return 2;
}

// remote-code: `operator`, `sim` and `dev` commands. Parses flags and wires modules; nothing else.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "remotecode/kube/client.h"
#include "remotecode/runtime/manager.h"
#include "remotecode/sim/simulator.h"
#include "remotecode/util/logging.h"

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: remote-code <command> [flags]\n"
    "commands:\n"
    "  sim       a simulated Kubernetes API server with GPU nodes (for development and tests)\n"
    "  operator  the operator: watches the cluster and reconciles (controllers arrive with the "
    "CRDs)\n"
    "  dev       simulator, operator and portal in one process (not yet in this build)\n"
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

int run_operator(int argc, char** argv) {
  std::string kubeconfig, context, log_level, log_format;
  rc::kube::ClientOptions co;
  rc::runtime::ManagerOptions mo;
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
  try {
    auto vm = parse(argc, argv, d, "operator");
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    if (log_format != "text" && log_format != "json")
      throw std::invalid_argument("--log-format must be text or json");
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
  if (mo.leader_election.namespace_name.empty()) mo.leader_election.namespace_name = "default";
  rc::runtime::Manager manager(client, mo);
  try {
    manager.start();
  } catch (const std::exception& e) {
    std::cerr << "remote-code operator: " << e.what() << "\n";
    return 1;
  }
  std::cout << "remote-code operator: started (metrics :" << manager.metrics_port()
            << ", probes :" << manager.health_port() << ")" << std::endl;
  std::thread waiter([&] {
    wait_for_signal();
    spdlog::info("operator: stopping");
    manager.stop();
  });
  bool clean = manager.wait();
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
  if (cmd == "dev") {
    std::cerr << "remote-code dev: not part of this build yet (run `remote-code sim`)\n";
    return 2;
  }
  std::cerr << "remote-code: unknown command \"" << cmd << "\"\n" << kUsage;
  return 2;
}

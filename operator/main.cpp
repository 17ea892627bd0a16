// remote-code: `operator`, `sim` and `dev` commands. Parses flags and wires modules; nothing else.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "remotecode/sim/simulator.h"

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: remote-code <command> [flags]\n"
    "commands:\n"
    "  sim       a simulated Kubernetes API server with GPU nodes (for development and tests)\n"
    "  operator  the operator (not yet in this build)\n"
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
  for (char c : flag) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

int run_sim(int argc, char** argv) {
  rc::sim::SimulatorOptions o;
  std::string fault500, fault429, log_level;
  po::options_description d("remote-code sim flags");
  d.add_options()("help", "show this help")
      ("listen", po::value(&o.listen)->default_value("127.0.0.1:0"), "address to serve on; port 0 picks a free port")
      ("kubeconfig-out", po::value(&o.kubeconfig_out), "write a kubeconfig for this server here")
      ("pki-out", po::value(&o.pki_out), "write ca.crt and a client certificate (client.crt, client.key) here")
      ("insecure-http", po::bool_switch(&o.insecure_http), "serve plain HTTP instead of HTTPS")
      ("openapi-dir", po::value(&o.openapi_dir), "folder of Kubernetes OpenAPI v3 documents for built-in types")
      ("token", po::value(&o.token), "bearer token to accept (default: a random one, written to the kubeconfig)")
      ("history", po::value(&o.history)->default_value(10000), "changes kept for watches; older resourceVersions get 410 Expired")
      ("bookmark-interval-seconds", po::value(&o.bookmark_interval_seconds)->default_value(60), "how often watches that allow bookmarks get one")
      ("gpu-nodes", po::value(&o.cluster.gpu_nodes)->default_value(2), "nodes with nvidia.com/gpu capacity")
      ("gpus-per-node", po::value(&o.cluster.gpus_per_node)->default_value(4), "nvidia.com/gpu per GPU node")
      ("cpu-nodes", po::value(&o.cluster.cpu_nodes)->default_value(1), "nodes without GPUs")
      ("gpu-product", po::value(&o.cluster.gpu_product)->default_value("NVIDIA-A100-SXM4-80GB"), "nvidia.com/gpu.product label of GPU nodes")
      ("pod-start-seconds", po::value(&o.cluster.pod_start_seconds)->default_value(0.5), "time from a pod's binding to Running")
      ("job-backoff-seconds", po::value(&o.cluster.job_backoff_seconds)->default_value(10), "delay before a failed Job pod is replaced; doubles per failure, capped at 360")
      ("fault-500", po::value(&fault500), "rate of injected 500s: 0.1 for every verb, or list=0.1,create=0.05")
      ("fault-429", po::value(&fault429), "rate of injected 429s (with Retry-After), same form")
      ("fault-retry-after-seconds", po::value(&o.faults.retry_after_seconds)->default_value(1), "Retry-After of injected 429s")
      ("fault-latency-ms", po::value(&o.faults.latency_ms)->default_value(0), "latency added to every resource request")
      ("fault-close-watch-seconds", po::value(&o.faults.close_watch_seconds)->default_value(0), "close every watch after this many seconds (0: never)")
      ("log-level", po::value(&log_level)->default_value("info"), "trace, debug, info, warn, error");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::store(po::parse_environment(d, [&](const std::string& env) -> std::string {
                for (const auto& opt : d.options())
                  if (env_name(opt->long_name()) == env) return opt->long_name();
                return "";
              }),
              vm);
    po::notify(vm);
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
  // Logs go to stderr: stdout carries only the ready line that scripts wait for.
  spdlog::set_default_logger(spdlog::stderr_color_mt("remote-code"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  block_signals();
  rc::sim::Simulator sim(o);
  try {
    sim.start();
  } catch (const std::exception& e) {
    std::cerr << "remote-code sim: " << e.what() << "\n";
    return 1;
  }
  std::cout << "remote-code sim: ready at " << sim.url()
            << (o.kubeconfig_out.empty() ? "" : " (kubeconfig: " + o.kubeconfig_out + ")") << std::endl;
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
  if (cmd == "operator" || cmd == "dev") {
    std::cerr << "remote-code " << cmd << ": not part of this build yet\n";
    return 2;
  }
  std::cerr << "remote-code: unknown command \"" << cmd << "\"\n" << kUsage;
  return 2;
}

// A process running the runtime with the demo controller, for the leader-election test:
// demo-operator --kubeconfig F --namespace NS --identity ID [--leader-elect] [--user-agent UA]
// (a User-Agent of its own lets the simulator's faults single one replica out)
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>

#include "demo_controller.h"
#include "remotecode/kube/config.h"

int main(int argc, char** argv) {
  std::string kubeconfig, ns = "default", identity = "demo", health = "0";
  std::string user_agent = "demo-operator";
  bool leader_elect = false;
  std::string extra;  // e.g. "pods,deployments.apps/v1,jobs.batch/v1": informers with no controller
                      // (for measuring)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--kubeconfig")
      kubeconfig = next();
    else if (a == "--namespace")
      ns = next();
    else if (a == "--identity")
      identity = next();
    else if (a == "--health-probe-bind-address")
      health = next();
    else if (a == "--user-agent")
      user_agent = next();
    else if (a == "--leader-elect")
      leader_elect = true;
    else if (a == "--extra-informers")
      extra = next();
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto config = rc::kube::load_kubeconfig(kubeconfig);
  rc::kube::ClientOptions co;
  co.user_agent = user_agent;
  co.field_manager = "demo-operator";
  auto client = rc::kube::Client::connect(config, co);
  rc::runtime::ManagerOptions mo;
  mo.metrics_bind_address = "0";
  mo.health_probe_bind_address = health;
  mo.leader_elect = leader_elect;
  mo.leader_election.namespace_name = ns;
  mo.leader_election.lease_name = "demo-operator";
  mo.leader_election.identity = identity;
  rc::runtime::Manager manager(client, mo);
  rc::testing::add_demo_controller(manager, ns, identity);
  for (size_t start = 0; !extra.empty() && start <= extra.size();) {
    auto comma = extra.find(',', start);
    std::string item = extra.substr(start, comma - start);
    auto dot = item.find('.');
    auto slash = item.find('/');
    rc::kube::ResourceRef ref;
    ref.resource = item.substr(0, dot);
    ref.group = dot == std::string::npos ? "" : item.substr(dot + 1, slash - dot - 1);
    ref.version = slash == std::string::npos ? "v1" : item.substr(slash + 1);
    manager.informer(ref);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  manager.start();
  std::cout << "demo-operator " << identity << " started" << std::endl;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    manager.stop();
  });
  bool clean = manager.wait();
  manager.stop();
  if (!clean) {
    std::cerr << "demo-operator " << identity << ": lost leadership\n";
    _exit(1);
  }
  waiter.join();
  return 0;
}

// rc-bench: the client side of `make bench` (bench/run.py starts the simulator and the operator
// and calls these).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"

namespace {

constexpr const char* kUsage = R"(usage: rc-bench COMMAND --kubeconfig FILE [flags]
  converge  --n N [--per-namespace 10] [--threads 8] [--timeout 600] [--out FILE]
            create N Workspaces and N TrainingJobs at once; time until all children exist
            and every status is current
  floor     [--kube-qps 20] [--kube-burst 30] [--workers 2] [--out FILE]
            the minimal controller for the same objects; runs until SIGINT/SIGTERM
  populate  --kind pods|services --n N [--from 0] [--namespaces 100] [--nodes 1] [--out FILE]
            create objects the operator caches but does not own (namespaces filler-<i % 100>)
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::string cmd = argv[1];
  try {
    rc::bench::Flags flags(argc - 2, argv + 2);
    if (cmd == "converge") return rc::bench::run_converge(flags);
    if (cmd == "floor") return rc::bench::run_floor(flags);
    if (cmd == "populate") return rc::bench::run_populate(flags);
  } catch (const std::exception& e) {
    std::cerr << "rc-bench " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << kUsage;
  return 2;
}

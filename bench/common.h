// What the commands of rc-bench share: `--name value` flags, an API client with a chosen rate
// limit, a clock, quantiles and the bench's object layout (names, namespaces, labels).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/kube/client.h"

namespace rc::bench {

class Flags {
 public:
  Flags(int argc, char** argv);  // "--name value" or "--name=value"; throws on anything else
  std::string str(const std::string& name, const std::string& fallback = "") const;
  int64_t num(const std::string& name, int64_t fallback) const;
  double real(const std::string& name, double fallback) const;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The kubeconfig named by --kubeconfig (required).
  std::string kubeconfig() const;

 private:
  std::map<std::string, std::string> values_;
};

// A client for `kubeconfig` with its own rate limit (qps 0: unlimited) and User-Agent, which
// /sim/requests reports as the client's name.
std::shared_ptr<kube::Client> connect(const std::string& kubeconfig, double qps, int burst,
                                      const std::string& user_agent);

// Seconds on a monotonic clock; only differences mean anything.
double seconds_now();

// The q-quantile (0..1) of `values` by the nearest-rank method; 0 for an empty list.
double quantile(std::vector<double> values, double q);

// Runs fn(i) for i in [0, n) on `threads` threads; exceptions are counted, not thrown.
// Returns the number of calls that threw (the first message goes to stderr).
int64_t parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn);

// The bench's objects: `per_namespace` Workspaces and as many TrainingJobs in each namespace
// "bench-<k>" (a user's namespace), all made from the Template "bench".
inline constexpr const char* kNamespacePrefix = "bench-";
inline constexpr const char* kTemplate = "bench";
std::string bench_namespace(int64_t index, int64_t per_namespace);
std::string workspace_name(int64_t index);    // "ws-<i>"
std::string trainingjob_name(int64_t index);  // "tj-<i>"

// Writes `doc` to `path` ("-" for stdout), followed by a newline.
void write_json(const std::string& path, const nlohmann::json& doc);

}  // namespace rc::bench

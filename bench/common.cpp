#include "common.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "remotecode/kube/config.h"

namespace rc::bench {

Flags::Flags(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + a);
    a = a.substr(2);
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      values_[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      values_[a] = argv[++i];
    } else {
      values_[a] = "true";
    }
  }
}

std::string Flags::str(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int64_t Flags::num(const std::string& name, int64_t fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : std::stoll(it->second);
}

double Flags::real(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : std::stod(it->second);
}

std::string Flags::kubeconfig() const {
  std::string k = str("kubeconfig");
  if (k.empty()) throw std::invalid_argument("--kubeconfig is required");
  return k;
}

std::shared_ptr<kube::Client> connect(const std::string& kubeconfig, double qps, int burst,
                                      const std::string& user_agent) {
  kube::ClientOptions o;
  o.qps = qps;
  o.burst = burst;
  o.user_agent = user_agent;
  o.field_manager = "remote-code";  // the floor's applies own the same fields as the operator's
  return kube::Client::connect(kube::load_kubeconfig(kubeconfig), o);
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

int64_t parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn) {
  std::atomic<int64_t> next{0}, failed{0};
  std::once_flag first;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int64_t i = next++; i < n; i = next++) {
        try {
          fn(i);
        } catch (const std::exception& e) {
          ++failed;
          std::call_once(first, [&] { std::cerr << "rc-bench: " << e.what() << "\n"; });
        }
      }
    });
  for (auto& t : pool) t.join();
  return failed;
}

std::string bench_namespace(int64_t index, int64_t per_namespace) {
  return kNamespacePrefix + std::to_string(index / std::max<int64_t>(per_namespace, 1));
}

std::string workspace_name(int64_t index) {
  return "ws-" + std::to_string(index);
}

std::string trainingjob_name(int64_t index) {
  return "tj-" + std::to_string(index);
}

void write_json(const std::string& path, const nlohmann::json& doc) {
  if (path.empty() || path == "-") {
    std::cout << doc.dump() << std::endl;
    return;
  }
  std::ofstream out(path);
  out << doc.dump(1) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace rc::bench

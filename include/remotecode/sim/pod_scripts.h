// Scripts for pods the simulator's controllers create from templates a test does not author
// (an operator's build Jobs, training Jobs): rules set through PUT /sim/pod-scripts add the
// kubelet-scripting annotations (sim.remotecode.dev/...) to every new pod they match, by
// namespace and label selector. The pod's own annotations win.
#pragma once
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rc::sim {

class PodScripts {
 public:
  // [{"namespace": "" (any) or a name, "selector": "a=b,c", "annotations": {...}}]; throws
  // std::invalid_argument naming the bad rule.
  void set(const nlohmann::json& rules);
  nlohmann::json get() const;
  // Adds the annotations of every matching rule (first match of a key wins) to `pod`'s metadata.
  void apply(nlohmann::json& pod) const;

 private:
  mutable std::mutex mu_;
  nlohmann::json rules_ = nlohmann::json::array();
};

}  // namespace rc::sim

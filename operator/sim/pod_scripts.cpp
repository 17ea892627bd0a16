#include "remotecode/sim/pod_scripts.h"

#include <stdexcept>

#include "remotecode/kube/selector.h"

namespace rc::sim {

using nlohmann::json;

void PodScripts::set(const json& rules) {
  if (!rules.is_array()) throw std::invalid_argument("pod-scripts: the body must be a JSON list");
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    std::string where = "pod-scripts[" + std::to_string(i) + "]";
    if (!r.is_object()) throw std::invalid_argument(where + " must be an object");
    if (!r.value("annotations", json()).is_object())
      throw std::invalid_argument(where + ".annotations must be an object of strings");
    for (const auto& [k, v] : r["annotations"].items())
      if (!v.is_string())
        throw std::invalid_argument(where + ".annotations." + k + " must be a string");
    try {
      kube::LabelSelector::parse(r.value("selector", ""));
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ".selector: " + e.what());
    }
  }
  std::lock_guard lock(mu_);
  rules_ = rules;
}

json PodScripts::get() const {
  std::lock_guard lock(mu_);
  return rules_;
}

void PodScripts::apply(json& pod) const {
  std::lock_guard lock(mu_);
  if (rules_.empty()) return;
  json& md = pod["metadata"];
  const json labels = md.value("labels", json::object());
  for (const auto& r : rules_) {
    std::string ns = r.value("namespace", "");
    if (!ns.empty() && ns != md.value("namespace", "")) continue;
    if (!kube::LabelSelector::parse(r.value("selector", "")).matches(labels)) continue;
    for (const auto& [k, v] : r["annotations"].items())
      if (!md["annotations"].contains(k)) md["annotations"][k] = v;
  }
}

}  // namespace rc::sim

#include "remotecode/controllers/conditions.h"

namespace rc::controllers {

using nlohmann::json;

void set_condition(json& status, const Condition& c, int64_t generation, const std::string& now) {
  if (!status.contains("conditions") || !status["conditions"].is_array())
    status["conditions"] = json::array();
  json& list = status["conditions"];
  json next = {{"type", c.type},
               {"status", c.status},
               {"reason", c.reason},
               {"message", c.message},
               {"observedGeneration", generation},
               {"lastTransitionTime", now}};
  for (auto& existing : list) {
    if (existing.value("type", "") != c.type) continue;
    // The transition time moves only when the status does, as metav1.Condition specifies.
    if (existing.value("status", "") == c.status && existing.contains("lastTransitionTime"))
      next["lastTransitionTime"] = existing["lastTransitionTime"];
    existing = next;
    return;
  }
  list.push_back(next);
}

const json* find_condition(const json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions")) return nullptr;
  for (const auto& c : status["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

bool condition_is_true(const json& status, const std::string& type) {
  const json* c = find_condition(status, type);
  return c && c->value("status", "") == "True";
}

}  // namespace rc::controllers

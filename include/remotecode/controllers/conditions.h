// metav1.Condition lists in status: set one by type, keeping lastTransitionTime while its status
// stays the same, so rewriting the same condition changes nothing.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace rc::controllers {

struct Condition {
  std::string type;     // Ready, Valid, Built, Scheduled, Admitted, ...
  std::string status;   // "True", "False", "Unknown"
  std::string reason;   // CamelCase
  std::string message;  // what happened and what to do
};

// Sets `c` in status["conditions"] (creating the list). `now` is RFC 3339; `generation` becomes
// observedGeneration.
void set_condition(nlohmann::json& status, const Condition& c, int64_t generation,
                   const std::string& now);
// The condition of `type` in status, or null.
const nlohmann::json* find_condition(const nlohmann::json& status, const std::string& type);
bool condition_is_true(const nlohmann::json& status, const std::string& type);

}  // namespace rc::controllers

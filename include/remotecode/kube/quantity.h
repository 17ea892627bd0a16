// resource.Quantity ("500m", "16Gi", "1e3", 2) as numbers, for scheduling, quotas and
// comparisons. Double precision is enough for counts of CPUs, bytes and GPUs.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace rc::kube {

// nullopt when the text is not a quantity.
std::optional<double> parse_quantity(const std::string& text);
// Accepts a JSON string or number; nullopt otherwise.
std::optional<double> parse_quantity(const nlohmann::json& value);
// Canonical-ish text: integers as is, fractions in milli-units ("1500m").
std::string format_quantity(double value);
// Exactly the text the apiserver stores for a quantity of a built-in type ("1000m" -> "1",
// "1024Mi" -> "1Gi", "2000" -> "2k", "1.5" -> "1500m"); nullopt when the text is no quantity.
// Values are rounded up to 10^scale: nano for any quantity, milli (-3) in the ResourceLists of
// core/v1 objects (requests, limits, quotas, capacity), which the apiserver's defaulting rounds.
std::optional<std::string> canonical_quantity(const std::string& text, int scale = -9);

}  // namespace rc::kube

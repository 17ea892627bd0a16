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

}  // namespace rc::kube

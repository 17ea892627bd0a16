// Registry rules of the built-in resources: defaults as the apiserver's defaulting and
// admission fill them, and the validation a user meets most (names, required fields,
// immutable fields). Not the full upstream validation: docs/simulator.md lists what is left out.
#pragma once
#include <nlohmann/json.hpp>

#include "remotecode/sim/resource_type.h"

namespace rc::sim {

// Fills defaults. `creating` adds what only creation fills (service IPs, job selectors).
void default_builtin(const ResourceType& rt, nlohmann::json& obj, bool creating);
// Returns an array of StatusCauses; empty when valid. `old` is null on create.
nlohmann::json validate_builtin(const ResourceType& rt, const nlohmann::json& obj,
                                const nlohmann::json* old);
// Metadata rules shared by every resource (name format, labels, annotations).
nlohmann::json validate_metadata(const ResourceType& rt, const nlohmann::json& obj);
// Pod template defaults shared by Pods, Deployments and Jobs.
void default_pod_spec(nlohmann::json& spec);

}  // namespace rc::sim

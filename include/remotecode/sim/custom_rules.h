// Registry rules of CustomResourceDefinitions and of the custom resources they define:
// CRD defaults, names and acceptance; custom resources checked against the structural schema
// (unknown fields pruned or refused per fieldValidation, defaults filled, 422 causes).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/sim/resource_type.h"

namespace rc::sim {

void default_crd(nlohmann::json& crd);
nlohmann::json validate_crd(const nlohmann::json& crd);  // StatusCauses
// Validates `obj` against the schema of `rt`, pruning and defaulting in place. Throws
// StatusError (400 for strict unknown fields, 422 for schema violations); unknown fields under
// Warn become warnings.
void admit_custom_resource(const ResourceType& rt, nlohmann::json& obj,
                           const std::string& field_validation, std::vector<std::string>* warnings);

}  // namespace rc::sim

// meta.k8s.io/v1 Table responses, which `kubectl get` asks for: the columns of the built-in
// printers a user knows, and a CRD's additionalPrinterColumns evaluated by JSONPath.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/sim/resource_type.h"
#include "remotecode/sim/store.h"

namespace rc::sim {

nlohmann::json table_columns(const ResourceType& rt);
nlohmann::json table_row(const ResourceType& rt, const nlohmann::json& obj,
                         const std::string& include_object);
// A Table of `items`; list_metadata is copied into the table's metadata.
nlohmann::json make_table(const ResourceType& rt, const std::vector<ObjPtr>& items,
                          const nlohmann::json& list_metadata, const std::string& include_object,
                          bool with_columns = true);
// Evaluates the JSONPath subset CRD printer columns use: `.a.b`, `[0]`, `[*]`,
// `[?(@.type=="Ready")]`. Returns every match.
std::vector<nlohmann::json> eval_jsonpath(const nlohmann::json& obj, const std::string& path);
// How the apiserver prints an age ("5s", "3m12s", "4h", "2d3h").
std::string human_duration(int64_t seconds);

}  // namespace rc::sim

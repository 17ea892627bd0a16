// Discovery documents (/api, /apis, /api/v1, /apis/<g>/<v>, /version) built from the types the
// simulator serves, in the legacy (non-aggregated) format a 1.32 server also answers.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/sim/type_registry.h"

namespace rc::sim {

nlohmann::json api_versions(const std::string& server_address);
nlohmann::json api_group_list(const TypeRegistry& types);
// nullopt-like: a null json when the group/version is not served.
nlohmann::json api_resource_list(const TypeRegistry& types, const std::string& group,
                                 const std::string& version);
nlohmann::json version_info();
// base64(sha256("group/version/kind")[:8]), as the apiserver computes storageVersionHash.
std::string storage_version_hash(const std::string& group, const std::string& version,
                                 const std::string& kind);

}  // namespace rc::sim

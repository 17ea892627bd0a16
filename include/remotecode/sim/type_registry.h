// Which resources the simulator serves right now: the built-in ones plus one per served
// version of every established CustomResourceDefinition. Thread-safe; lookups are cheap.
#pragma once
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "remotecode/sim/resource_type.h"

namespace rc::sim {

class TypeRegistry {
 public:
  TypeRegistry();
  ResourceTypePtr find(const std::string& group, const std::string& version,
                       const std::string& plural) const;
  ResourceTypePtr find_kind(const std::string& group, const std::string& version,
                            const std::string& kind) const;
  // The storage version's type for a storage id ("group/plural").
  ResourceTypePtr by_storage_id(const std::string& storage_id) const;
  std::vector<ResourceTypePtr> all() const;
  // Group/versions served, core ("v1") first, in a stable order.
  std::vector<std::pair<std::string, std::string>> group_versions() const;

  // Registers (or replaces) the types a CRD defines; returns the names that clash with another
  // CRD or a built-in (empty when accepted).
  std::string add_crd(const nlohmann::json& crd);
  void remove_crd(const std::string& crd_name);

 private:
  mutable std::shared_mutex mu_;
  std::vector<ResourceTypePtr> types_;
};

}  // namespace rc::sim

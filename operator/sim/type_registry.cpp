#include "remotecode/sim/type_registry.h"

#include <algorithm>

namespace rc::sim {

TypeRegistry::TypeRegistry() {
  for (auto& rt : builtin_resource_types())
    types_.push_back(std::make_shared<const ResourceType>(std::move(rt)));
}

ResourceTypePtr TypeRegistry::find(const std::string& group, const std::string& version,
                                   const std::string& plural) const {
  std::shared_lock lk(mu_);
  for (const auto& t : types_)
    if (t->group == group && t->version == version && t->plural == plural) return t;
  return nullptr;
}

ResourceTypePtr TypeRegistry::find_kind(const std::string& group, const std::string& version,
                                        const std::string& kind) const {
  std::shared_lock lk(mu_);
  for (const auto& t : types_)
    if (t->group == group && t->version == version && t->kind == kind) return t;
  return nullptr;
}

ResourceTypePtr TypeRegistry::by_storage_id(const std::string& storage_id) const {
  std::shared_lock lk(mu_);
  ResourceTypePtr first;
  for (const auto& t : types_) {
    if (t->id() != storage_id) continue;
    if (!t->custom) return t;
    if (!first) first = t;
    if (t->crd_version.value("storage", false)) return t;
  }
  return first;
}

std::vector<ResourceTypePtr> TypeRegistry::all() const {
  std::shared_lock lk(mu_);
  return types_;
}

std::vector<std::pair<std::string, std::string>> TypeRegistry::group_versions() const {
  std::shared_lock lk(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& t : types_) {
    std::pair<std::string, std::string> gv{t->group, t->version};
    if (std::find(out.begin(), out.end(), gv) == out.end()) out.push_back(gv);
  }
  return out;
}

std::string TypeRegistry::add_crd(const nlohmann::json& crd) {
  const auto& spec = crd.at("spec");
  const auto& names = spec.at("names");
  std::string group = spec.value("group", "");
  std::string plural = names.value("plural", "");
  std::string crd_name = crd.at("metadata").value("name", "");
  std::unique_lock lk(mu_);
  for (const auto& t : types_) {
    if (t->group == group && t->plural == plural && t->crd_name != crd_name)
      return "\"" + plural + "\" is already in use";
  }
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const ResourceTypePtr& t) { return t->crd_name == crd_name; }),
               types_.end());
  for (const auto& v : spec.value("versions", nlohmann::json::array())) {
    if (!v.value("served", true)) continue;
    ResourceType rt;
    rt.group = group;
    rt.version = v.value("name", "");
    rt.plural = plural;
    rt.singular = names.value("singular", "");
    if (rt.singular.empty()) {
      std::string k = names.value("kind", "");
      std::transform(k.begin(), k.end(), k.begin(), ::tolower);
      rt.singular = k;
    }
    rt.kind = names.value("kind", "");
    rt.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    rt.short_names = names.value("shortNames", std::vector<std::string>{});
    rt.categories = names.value("categories", std::vector<std::string>{});
    auto sub = v.value("subresources", nlohmann::json::object());
    rt.has_status = sub.contains("status");
    rt.tracks_generation = true;
    rt.allow_unconditional_update = false;
    rt.custom = true;
    rt.crd_version = v;
    rt.crd_name = crd_name;
    types_.push_back(std::make_shared<const ResourceType>(std::move(rt)));
  }
  return "";
}

void TypeRegistry::remove_crd(const std::string& crd_name) {
  std::unique_lock lk(mu_);
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const ResourceTypePtr& t) { return t->crd_name == crd_name; }),
               types_.end());
}

}  // namespace rc::sim

#include "remotecode/sim/custom_rules.h"

#include <algorithm>

#include "remotecode/schema/validator.h"
#include "remotecode/sim/errors.h"

namespace rc::sim {

using nlohmann::json;

void default_crd(json& crd) {
  auto& spec = crd["spec"];
  auto& names = spec["names"];
  std::string kind = names.value("kind", "");
  std::string lower = kind;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (!names.contains("singular")) names["singular"] = lower;
  if (!names.contains("listKind")) names["listKind"] = kind + "List";
  if (!spec.contains("conversion")) spec["conversion"] = {{"strategy", "None"}};
  if (!spec.contains("scope")) spec["scope"] = "Namespaced";
}

json validate_crd(const json& crd) {
  json causes = json::array();
  const auto spec = crd.value("spec", json::object());
  std::string group = spec.value("group", "");
  auto names = spec.value("names", json::object());
  std::string plural = names.value("plural", "");
  if (group.empty()) causes.push_back(cause("FieldValueRequired", "spec.group", "Required value"));
  if (plural.empty())
    causes.push_back(cause("FieldValueRequired", "spec.names.plural", "Required value"));
  if (names.value("kind", "").empty())
    causes.push_back(cause("FieldValueRequired", "spec.names.kind", "Required value"));
  std::string name = crd.at("metadata").value("name", "");
  if (!plural.empty() && !group.empty() && name != plural + "." + group)
    causes.push_back(cause(
        "FieldValueInvalid", "metadata.name",
        "Invalid value: " + json(name).dump() + ": must be spec.names.plural+\".\"+spec.group"));
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster")
    causes.push_back(cause("FieldValueNotSupported", "spec.scope",
                           "Unsupported value: " + json(scope).dump() +
                               ": supported values: \"Cluster\", \"Namespaced\""));
  auto versions = spec.value("versions", json::array());
  if (versions.empty())
    causes.push_back(cause("FieldValueInvalid", "spec.versions",
                           "Invalid value: null: must have exactly one version marked as storage "
                           "version"));
  int storage = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i].value("storage", false)) ++storage;
    if (!versions[i].contains("schema") || !versions[i]["schema"].contains("openAPIV3Schema"))
      causes.push_back(cause("FieldValueRequired",
                             "spec.versions[" + std::to_string(i) + "].schema.openAPIV3Schema",
                             "Required value: schemas are required"));
  }
  if (!versions.empty() && storage != 1)
    causes.push_back(cause("FieldValueInvalid", "spec.versions",
                           "Invalid value: " + versions.dump() +
                               ": must have exactly one version marked as storage version"));
  return causes;
}

void admit_custom_resource(const ResourceType& rt, json& obj, const std::string& field_validation,
                           std::vector<std::string>* warnings) {
  const json* schema = nullptr;
  if (rt.crd_version.contains("schema") && rt.crd_version["schema"].contains("openAPIV3Schema"))
    schema = &rt.crd_version["schema"]["openAPIV3Schema"];
  if (!schema) return;
  json metadata = obj["metadata"];
  schema::Options opts;
  opts.prune_unknown = true;
  opts.report_unknown = field_validation != "Ignore";
  opts.apply_defaults = true;
  auto result = schema::validate(obj, *schema, nullptr, opts);
  obj["metadata"] = metadata;
  std::string name = metadata.value("name", "");
  json causes = json::array();
  std::vector<std::string> unknown;
  for (const auto& c : result.causes) {
    if (c.reason == "FieldValueUnknown") {
      unknown.push_back("unknown field \"" + c.field + "\"");
    } else {
      causes.push_back(cause(c.reason, c.field, c.message));
    }
  }
  if (!unknown.empty()) {
    if (field_validation == "Strict") {
      std::string msg = rt.kind + " in version \"" + rt.version + "\" cannot be handled as a " +
                        rt.kind + ": strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) msg += (i ? ", " : "") + unknown[i];
      throw bad_request(msg);
    }
    if (warnings)
      for (auto& u : unknown) warnings->push_back(u);
  }
  if (!causes.empty()) throw invalid(rt, name, causes);
}

}  // namespace rc::sim

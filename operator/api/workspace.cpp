#include "remotecode/api/workspace.h"

#include <re2/re2.h>

namespace rc::api {

using nlohmann::json;

namespace {

// A Kubernetes object name (DNS-1123 subdomain): what a Template may be called.
bool is_object_name(const std::string& s) {
  static const RE2 re(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return !s.empty() && s.size() <= 253 && RE2::FullMatch(s, re);
}

void check_name(const json& obj, Errors& errors) {
  const json md = obj.value("metadata", json::object());
  std::string name = md.value("name", "");
  if (!is_dns_label(name) || name.size() > kMaxWorkspaceNameLength)
    errors.add("metadata.name", in_quotes(name) + " must be a DNS label of at most " +
                                    std::to_string(kMaxWorkspaceNameLength) +
                                    " characters (lower-case letters, digits and '-'): its "
                                    "children add suffixes such as -home");
}

HomeRetention read_retention(const json& spec, Errors& errors) {
  std::string value = read_string(spec, "homeRetention", "spec", errors, "Delete");
  if (value == "Delete") return HomeRetention::Delete;
  if (value == "Retain") return HomeRetention::Retain;
  errors.add("spec.homeRetention", in_quotes(value) + " is not Delete or Retain");
  return HomeRetention::Delete;
}

}  // namespace

WorkspaceSpec parse_workspace(const json& workspace_object) {
  Errors errors;
  check_name(workspace_object, errors);
  const json spec = workspace_object.value("spec", json::object());
  WorkspaceSpec ws;
  if (!spec.is_object()) {
    errors.add("spec", "must be an object");
    errors.throw_if_any();
  }
  check_spec_size(spec, errors);

  ws.template_name = read_string(spec, "template", "spec", errors);
  if (ws.template_name.empty())
    errors.add("spec.template", "Required value: the name of a Template (kubectl get templates)");
  else if (!is_object_name(ws.template_name))
    errors.add("spec.template", in_quotes(ws.template_name) + " is not a valid Template name");

  ws.owner = read_string(spec, "owner", "spec", errors);
  ws.running = read_bool(spec, "running", "spec", errors).value_or(true);
  ws.resources = parse_resources(spec.value("resources", json()), "spec.resources", errors);

  ws.idle_timeout_minutes = read_int(spec, "idleTimeoutMinutes", "spec", errors).value_or(0);
  if (ws.idle_timeout_minutes < 0 || ws.idle_timeout_minutes > kMaxIdleTimeoutMinutes) {
    errors.add("spec.idleTimeoutMinutes", "must be 0 (never) or a number of minutes up to " +
                                              std::to_string(kMaxIdleTimeoutMinutes) + " (a year)");
    ws.idle_timeout_minutes = 0;
  }
  ws.home_retention = read_retention(spec, errors);

  errors.throw_if_any();
  return ws;
}

std::string to_string(HomeRetention retention) {
  return retention == HomeRetention::Retain ? "Retain" : "Delete";
}

}  // namespace rc::api

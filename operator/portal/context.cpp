#include "remotecode/portal/context.h"

#include <chrono>

namespace rc::portal {

using nlohmann::json;

std::string Context::target_namespace(const Call& call) const {
  const Principal& who = call.who();
  auto ns = call.request.param("namespace");
  if (!ns || ns->empty() || *ns == who.namespace_name) return who.namespace_name;
  if (!who.admin()) throw not_found("namespace " + *ns + " not found");
  return *ns;
}

bool Context::may_see(const Principal& who, const std::string& ns) const {
  return who.admin() || ns == who.namespace_name;
}

void Context::require_synced() const {
  for (const auto& inf : {informers.templates, informers.workspaces, informers.trainingjobs,
                          informers.secrets, informers.pods, informers.quotas})
    if (inf && !inf->has_synced())
      throw HttpError(503, "unavailable", "the portal is starting; try again in a moment");
}

bool Context::still_valid(const Principal& who) const {
  auto user = users->find(who.user);
  if (!user || user->role != who.role) return false;
  if (who.from_header) return true;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return now < who.expires && user->session_epoch == who.session_epoch;
}

json object_view(const json& obj) {
  const json& md = obj.at("metadata");
  return {{"name", md.value("name", "")},
          {"namespace", md.value("namespace", "")},
          {"createdAt", md.value("creationTimestamp", "")},
          {"spec", obj.value("spec", json::object())},
          {"status", obj.value("status", json::object())}};
}

}  // namespace rc::portal

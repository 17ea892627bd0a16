#include "remotecode/sim/errors.h"

#include "remotecode/sim/resource_type.h"

namespace rc::sim {

StatusError::StatusError(int code, std::string reason, std::string message, nlohmann::json details)
    : std::runtime_error(message),
      code_(code),
      reason_(std::move(reason)),
      details_(std::move(details)) {}

nlohmann::json StatusError::status() const {
  nlohmann::json s = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", what()},  {"reason", reason_},
      {"code", code_}};
  if (!details_.empty()) s["details"] = details_;
  if (reason_.empty()) s.erase("reason");
  return s;
}

nlohmann::json status_success(const nlohmann::json& details) {
  nlohmann::json s = {{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", nlohmann::json::object()},
                      {"status", "Success"}};
  if (!details.empty()) s["details"] = details;
  return s;
}

static nlohmann::json details_for(const ResourceType& rt, const std::string& name) {
  nlohmann::json d = {{"name", name}, {"kind", rt.plural}};
  if (!rt.group.empty()) d["group"] = rt.group;
  return d;
}

StatusError not_found(const ResourceType& rt, const std::string& name) {
  return StatusError(404, "NotFound", rt.group_resource() + " \"" + name + "\" not found",
                     details_for(rt, name));
}

StatusError already_exists(const ResourceType& rt, const std::string& name) {
  return StatusError(409, "AlreadyExists", rt.group_resource() + " \"" + name + "\" already exists",
                     details_for(rt, name));
}

StatusError conflict(const ResourceType& rt, const std::string& name, const std::string& why) {
  return StatusError(
      409, "Conflict",
      "Operation cannot be fulfilled on " + rt.group_resource() + " \"" + name + "\": " + why,
      details_for(rt, name));
}

StatusError conflict_on_kind(const ResourceType& rt, const std::string& name,
                             const std::string& why) {
  std::string kind = rt.group.empty() ? rt.kind : rt.kind + "." + rt.group;
  nlohmann::json details = details_for(rt, name);
  details["kind"] = rt.kind;
  return StatusError(409, "Conflict",
                     "Operation cannot be fulfilled on " + kind + " \"" + name + "\": " + why,
                     details);
}

StatusError stale_update(const ResourceType& rt, const std::string& name) {
  return conflict(rt, name,
                  "the object has been modified; please apply your changes to the latest version "
                  "and try again");
}

StatusError invalid(const ResourceType& rt, const std::string& name, const nlohmann::json& causes) {
  std::string kind_group = rt.group.empty() ? rt.kind : rt.kind + "." + rt.group;
  std::string msg = kind_group + " \"" + name + "\" is invalid: ";
  if (causes.size() == 1) {
    msg += causes[0].value("field", "") + ": " + causes[0].value("message", "");
  } else {
    msg += "[";
    bool first = true;
    for (const auto& c : causes) {
      if (!first) msg += ", ";
      first = false;
      msg += c.value("field", "") + ": " + c.value("message", "");
    }
    msg += "]";
  }
  nlohmann::json d = {{"name", name}, {"kind", rt.kind}, {"causes", causes}};
  if (!rt.group.empty()) d["group"] = rt.group;
  return StatusError(422, "Invalid", msg, d);
}

StatusError bad_request(const std::string& message) {
  return StatusError(400, "BadRequest", message);
}

StatusError forbidden(const ResourceType* rt, const std::string& name, const std::string& why) {
  std::string msg;
  nlohmann::json d = nlohmann::json::object();
  if (rt) {
    msg = rt->group_resource() + " \"" + name + "\" is forbidden: " + why;
    d = details_for(*rt, name);
  } else {
    msg = why;
  }
  return StatusError(403, "Forbidden", msg, d);
}

StatusError expired(const std::string& message) {
  return StatusError(410, "Expired", message);
}

StatusError method_not_supported(const ResourceType& rt, const std::string& verb) {
  return StatusError(
      405, "MethodNotAllowed",
      verb + " is not supported on resources of kind \"" + rt.group_resource() + "\"",
      {{"group", rt.group}, {"kind", rt.plural}});
}

StatusError unsupported_media_type(const std::string& content_type) {
  return StatusError(415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json-patch+json, application/merge-patch+json, "
                     "application/apply-patch+yaml" +
                         (content_type.empty() ? std::string() : ""));
}

StatusError too_many_requests(int retry_after_seconds) {
  StatusError e(429, "TooManyRequests", "Too many requests, please try again later.",
                {{"retryAfterSeconds", retry_after_seconds}});
  e.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return e;
}

StatusError internal_error(const std::string& message) {
  return StatusError(500, "InternalError", "Internal error occurred: " + message,
                     {{"causes", {{{"message", message}}}}});
}

StatusError unauthorized() {
  return StatusError(401, "Unauthorized", "Unauthorized");
}

StatusError path_not_found(const std::string& path) {
  (void)path;
  return StatusError(
      404, "NotFound", "the server could not find the requested resource",
      {{"causes", {{{"reason", "UnexpectedServerResponse"}, {"message", "404 page not found"}}}}});
}

nlohmann::json cause(const std::string& type, const std::string& field,
                     const std::string& message) {
  return {{"reason", type}, {"message", message}, {"field", field}};
}

}  // namespace rc::sim

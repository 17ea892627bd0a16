// The simulator's failures, each carrying the metav1.Status a real kube-apiserver would send
// (code, reason, message and details in the shapes of k8s.io/apimachinery/pkg/api/errors).
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace rc::sim {

struct ResourceType;

class StatusError : public std::runtime_error {
 public:
  StatusError(int code, std::string reason, std::string message,
              nlohmann::json details = nlohmann::json::object());
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json status() const;
  // Extra HTTP headers (Retry-After for 429).
  std::vector<std::pair<std::string, std::string>> headers;

 private:
  int code_;
  std::string reason_;
  nlohmann::json details_;
};

nlohmann::json status_success(const nlohmann::json& details = nlohmann::json::object());

StatusError not_found(const ResourceType& rt, const std::string& name);
StatusError already_exists(const ResourceType& rt, const std::string& name);
StatusError conflict(const ResourceType& rt, const std::string& name, const std::string& why);
// A conflict that names the kind instead of the resource, as delete preconditions do.
StatusError conflict_on_kind(const ResourceType& rt, const std::string& name,
                             const std::string& why);
StatusError stale_update(const ResourceType& rt, const std::string& name);
StatusError invalid(const ResourceType& rt, const std::string& name, const nlohmann::json& causes);
StatusError bad_request(const std::string& message);
StatusError forbidden(const ResourceType* rt, const std::string& name, const std::string& why);
StatusError expired(const std::string& message);
StatusError method_not_supported(const ResourceType& rt, const std::string& verb);
StatusError unsupported_media_type(const std::string& content_type);
StatusError too_many_requests(int retry_after_seconds);
StatusError internal_error(const std::string& message);
StatusError unauthorized();
StatusError path_not_found(const std::string& path);

// One StatusCause (FieldValueRequired, FieldValueInvalid, ...) for `invalid`.
nlohmann::json cause(const std::string& type, const std::string& field, const std::string& message);

}  // namespace rc::sim

#include "remotecode/kube/api_error.h"

namespace rc::kube {
namespace {

std::string describe(int code, const nlohmann::json& status, const std::string& body,
                     const std::string& method, const std::string& path) {
  std::string msg = status.is_object() ? status.value("message", "") : "";
  if (msg.empty()) msg = body.size() > 200 ? body.substr(0, 200) + "..." : body;
  std::string where = method.empty() ? "" : method + " " + path + ": ";
  return where + std::to_string(code) + " " + msg;
}

std::string reason_for(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

nlohmann::json parse_status(int code, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.value("kind", "") == "Status") return j;
  // A proxy or a crash answered: make a Status so callers see one shape.
  return {{"kind", "Status"},           {"apiVersion", "v1"},
          {"status", "Failure"},        {"message", body.substr(0, 1000)},
          {"reason", reason_for(code)}, {"code", code}};
}

}  // namespace

ApiError::ApiError(int http_status, const std::string& body, std::string method, std::string path)
    : std::runtime_error(
          describe(http_status, parse_status(http_status, body), body, method, path)),
      code_(http_status),
      status_(parse_status(http_status, body)) {
  reason_ = status_.value("reason", reason_for(http_status));
  if (reason_.empty()) reason_ = reason_for(http_status);
  if (status_.contains("details") && status_["details"].contains("retryAfterSeconds"))
    retry_after_seconds = status_["details"]["retryAfterSeconds"].get<int>();
}

}  // namespace rc::kube

// Routes of the portal: method + path pattern ("/api/v1/jobs/{name}/logs") -> handler, JSON
// errors in the documented shape, and the principal a handler runs as.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "remotecode/http/server.h"

namespace rc::portal {

enum class Role { User, Admin };
std::string to_string(Role role);  // "user", "admin"

// Who is calling. Handlers of routes marked signed-in get one; public routes may get none.
struct Principal {
  std::string user;
  Role role = Role::User;
  std::string namespace_name;  // the user's own namespace
  std::string csrf_binding;    // what the CSRF token is bound to
  // Of a cookie session: its expiry and the user's session epoch when it was issued, so that
  // long streams can tell when the session has ended. 0 / -1 for the trusted-header mode.
  int64_t expires = 0;
  int64_t session_epoch = -1;
  bool from_header = false;
  bool admin() const { return role == Role::Admin; }
};

// Thrown by handlers (and helpers they call); the router turns it into
// {"error": code, "message": message} with `status`.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status(status), code(std::move(code)) {}
  int status;
  std::string code;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
};
HttpError bad_request(const std::string& message);
HttpError not_found(const std::string& message);
HttpError forbidden(const std::string& message);
HttpError conflict(const std::string& message);

http::Response json_response(int status, const nlohmann::json& body);
http::Response error_response(int status, const std::string& code, const std::string& message);
// The body as a JSON object; throws bad_request when it is not one.
nlohmann::json json_body(const http::Request& req);

struct Call {
  http::Request& request;
  std::map<std::string, std::string> params;  // {name} segments, percent-decoded
  std::optional<Principal> principal;         // set for Access::SignedIn and Access::Admin

  const Principal& who() const { return *principal; }
  const std::string& param(const std::string& name) const { return params.at(name); }
};

using RouteHandler = std::function<http::Response(Call&)>;

enum class Access { Public, SignedIn, Admin };

// Resolves the caller of a request (cookie or trusted header); nullopt when not signed in.
using Authenticator = std::function<std::optional<Principal>(const http::Request&)>;
// True when `token` is the CSRF token for `binding`.
using CsrfCheck = std::function<bool(const std::string& binding, const std::string& token)>;

class Router {
 public:
  Router(Authenticator authenticate, CsrfCheck check_csrf);
  void add(const std::string& method, const std::string& pattern, Access access,
           RouteHandler handler);
  // Runs the matching route: 401/403 by its Access, 403 for a state-changing request without a
  // valid X-CSRF-Token (unless `csrf_exempt`), 405 when only the method is wrong, 404 when
  // nothing matches; HttpError and kube::ApiError become JSON errors. nullopt when no route
  // pattern matches the path at all (the caller may serve a page instead).
  std::optional<http::Response> dispatch(http::Request& request) const;
  void exempt_from_csrf(const std::string& method, const std::string& pattern);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Access access;
    RouteHandler handler;
    bool csrf_exempt = false;
  };
  Authenticator authenticate_;
  CsrfCheck check_csrf_;
  std::vector<Route> routes_;
};

// The path as it may be logged: share tokens are credentials, so they never reach the logs.
std::string loggable_path(const std::string& path);

}  // namespace rc::portal

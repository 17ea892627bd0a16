#include "remotecode/portal/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "remotecode/http/server.h"
#include "remotecode/kube/api_error.h"

namespace rc::portal {

using nlohmann::json;

std::string to_string(Role role) {
  return role == Role::Admin ? "admin" : "user";
}

HttpError bad_request(const std::string& message) {
  return HttpError(400, "bad_request", message);
}
HttpError not_found(const std::string& message) {
  return HttpError(404, "not_found", message);
}
HttpError forbidden(const std::string& message) {
  return HttpError(403, "forbidden", message);
}
HttpError conflict(const std::string& message) {
  return HttpError(409, "conflict", message);
}

http::Response json_response(int status, const json& body) {
  auto r = http::Response::json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
  r.set_header("Cache-Control", "no-store");
  return r;
}

http::Response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", code}, {"message", message}});
}

json json_body(const http::Request& req) {
  // Only application/json: a cross-site HTML form cannot send it without the browser asking
  // first (CORS), so no other site can post a body to us, sign-in included.
  std::string type = req.header("Content-Type");
  type = type.substr(0, type.find(';'));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type != "application/json")
    throw HttpError(415, "unsupported_media_type", "send the body as application/json");
  // Objects nested deeper than any spec are refused while parsing: copying a very deep value
  // would recurse until the stack ran out.
  constexpr int kMaxDepth = 32;
  bool too_deep = false;
  json body = json::parse(
      req.body,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth > kMaxDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) throw bad_request("the request body is nested too deeply");
  if (body.is_discarded() || !body.is_object())
    throw bad_request("the request body must be a JSON object");
  return body;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i]))
      params[pattern[i].substr(1, pattern[i].size() - 2)] = path[i];
    else if (pattern[i] != path[i])
      return false;
  }
  return true;
}

bool changes_state(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// An API server error, said in the portal's words: what the user asked for was refused, or the
// cluster failed.
http::Response from_api_error(const kube::ApiError& e) {
  std::string message = e.status().is_object() ? e.status().value("message", e.what()) : e.what();
  if (e.not_found()) return error_response(404, "not_found", message);
  if (e.already_exists()) return error_response(409, "conflict", message);
  if (e.conflict())
    return error_response(409, "conflict", "the object changed meanwhile; try again");
  if (e.invalid()) return error_response(400, "bad_request", message);
  if (e.code() == 403)
    return error_response(502, "upstream",
                          "the operator is not allowed to do this in the cluster: " + message);
  return error_response(502, "upstream", "the Kubernetes API failed: " + message);
}

}  // namespace

// The path as it may be logged: share tokens are credentials, so they never reach the logs.
std::string loggable_path(const std::string& path) {
  for (const std::string prefix : {"/api/v1/shared/", "/share/"}) {
    if (path.rfind(prefix, 0) != 0) continue;
    auto end = path.find('/', prefix.size());
    return prefix + "<token>" + (end == std::string::npos ? "" : path.substr(end));
  }
  return path;
}

Router::Router(Authenticator authenticate, CsrfCheck check_csrf)
    : authenticate_(std::move(authenticate)), check_csrf_(std::move(check_csrf)) {}

void Router::add(const std::string& method, const std::string& pattern, Access access,
                 RouteHandler handler) {
  routes_.push_back({method, split_path(pattern), access, std::move(handler)});
}

void Router::exempt_from_csrf(const std::string& method, const std::string& pattern) {
  auto segments = split_path(pattern);
  for (auto& r : routes_)
    if (r.method == method && r.segments == segments) r.csrf_exempt = true;
}

std::optional<http::Response> Router::dispatch(http::Request& request) const {
  auto path = split_path(request.path);
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  bool path_matched = false;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> p;
    if (!match(r.segments, path, p)) continue;
    path_matched = true;
    if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
      route = &r;
      params = std::move(p);
      break;
    }
  }
  if (!route) {
    if (path_matched) return error_response(405, "method_not_allowed", "method not allowed");
    return std::nullopt;
  }
  Call call{request, std::move(params), std::nullopt};
  try {
    call.principal = authenticate_(request);
    if (route->access != Access::Public && !call.principal)
      return error_response(401, "unauthorized", "sign in first");
    if (route->access == Access::Admin && !call.principal->admin())
      return error_response(403, "forbidden", "only admins may do this");
    if (changes_state(request.method) && !route->csrf_exempt &&
        (!call.principal ||
         !check_csrf_(call.principal->csrf_binding, request.header("X-CSRF-Token"))))
      return error_response(403, "forbidden", "missing or wrong X-CSRF-Token");
    return route->handler(call);
  } catch (const HttpError& e) {
    auto r = error_response(e.status, e.code, e.what());
    for (const auto& [k, v] : e.headers) r.set_header(k, v);
    return r;
  } catch (const kube::ApiError& e) {
    spdlog::warn("portal: {} {}: {}", request.method, loggable_path(request.path), e.what());
    return from_api_error(e);
  } catch (const json::exception& e) {
    // A field of the wrong JSON type deep in a handler: the client's mistake.
    return error_response(400, "bad_request", std::string("malformed request: ") + e.what());
  } catch (const kube::TransportError& e) {
    spdlog::warn("portal: {} {}: {}", request.method, loggable_path(request.path), e.what());
    return error_response(502, "upstream", "the Kubernetes API cannot be reached");
  }
}

}  // namespace rc::portal

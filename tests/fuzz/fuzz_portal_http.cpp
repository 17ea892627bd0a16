// The portal's front door as a hostile client meets it: raw bytes over a TCP connection to the
// real HTTP server (Beast's request parser and our own handling of it), the portal's router
// (patterns, percent-decoding, access, CSRF) and its JSON bodies turned into objects by the
// same functions as the real routes. The answer must be an HTTP response or a closed
// connection; a crash, a hang or a sanitizer report is a finding.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "remotecode/api/template.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/api/workspace.h"
#include "remotecode/http/server.h"
#include "remotecode/portal/objects.h"
#include "remotecode/portal/router.h"

using namespace rc;
using nlohmann::json;

namespace {

std::optional<portal::Principal> who(const http::Request& req) {
  const std::string cookie = req.header("Cookie");
  if (cookie.find("admin") != std::string::npos)
    return portal::Principal{"root", portal::Role::Admin, "rc-root", "b-root"};
  if (cookie.find("alice") != std::string::npos)
    return portal::Principal{"alice", portal::Role::User, "rc-alice", "b-alice"};
  return std::nullopt;
}

http::Response created(const json& obj) {
  return portal::json_response(201, obj);
}

std::unique_ptr<portal::Router> make_router() {
  auto r = std::make_unique<portal::Router>(
      who,
      [](const std::string& binding, const std::string& token) { return token == "t-" + binding; });
  using portal::Access;
  using portal::Call;
  r->add("GET", "/api/v1/me", Access::Public, [](Call& c) {
    return portal::json_response(200, {{"user", c.principal ? c.who().user : ""}});
  });
  r->add("POST", "/api/v1/login", Access::Public, [](Call& c) {
    json body = portal::json_body(c.request);
    return portal::json_response(200, {{"user", body.value("username", json()).dump()}});
  });
  r->exempt_from_csrf("POST", "/api/v1/login");
  r->add("POST", "/api/v1/workspaces", Access::SignedIn, [](Call& c) {
    return created(portal::object_from_body(portal::json_body(c.request), "Workspace",
                                            c.who().namespace_name, api::kMaxWorkspaceNameLength,
                                            [](const json& o) { api::parse_workspace(o); }));
  });
  r->add("PATCH", "/api/v1/workspaces/{name}", Access::SignedIn, [](Call& c) {
    json body = portal::json_body(c.request);
    return portal::json_response(200, {{"name", c.param("name")}, {"patch", body}});
  });
  r->add("POST", "/api/v1/jobs", Access::SignedIn, [](Call& c) {
    return created(portal::object_from_body(portal::json_body(c.request), "TrainingJob",
                                            c.who().namespace_name, api::kMaxTrainingJobNameLength,
                                            [](const json& o) { api::parse_trainingjob(o); }));
  });
  r->add("GET", "/api/v1/jobs/{name}/logs", Access::SignedIn, [](Call& c) {
    return portal::json_response(
        200, {{"name", c.param("name")}, {"tail", c.request.param("tail").value_or("")}});
  });
  r->add("POST", "/api/v1/templates", Access::Admin, [](Call& c) {
    return created(portal::object_from_body(portal::json_body(c.request), "Template", "",
                                            api::kMaxTemplateNameLength,
                                            [](const json& o) { api::parse_template(o); }));
  });
  r->add("POST", "/api/v1/shared/{token}/workspaces", Access::SignedIn, [](Call& c) {
    json body = portal::json_body(c.request);
    return portal::json_response(200, {{"token", c.param("token").size()},
                                       {"key", body.value("accessKey", json()).is_string()}});
  });
  return r;
}

struct Portal {
  std::unique_ptr<portal::Router> router = make_router();
  std::unique_ptr<http::Server> server;
  Portal() {
    http::ServerOptions so;
    so.max_body_bytes = 1 << 20;
    so.header_timeout_seconds = 5;
    so.body_timeout_seconds = 5;
    so.max_connections = 64;
    so.loggable_path = portal::loggable_path;
    server = std::make_unique<http::Server>(so, [this](http::Request& req) {
      if (auto res = router->dispatch(req)) return std::move(*res);
      return portal::error_response(404, "not_found", "no page");
    });
    server->start();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Portal* portal = new Portal();  // one server for the whole run
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(portal->server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) __builtin_trap();
  timeval tv{10, 0};  // far longer than any answer takes: a hang is a finding
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (an over-long header, a bad request)
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) __builtin_trap();  // no answer, no close
      break;                                                          // reset: closed
    }
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!answer.empty() && answer.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  return 0;
}

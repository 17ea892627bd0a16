// The web portal, served by the operator binary: the JSON API of docs/api.md, forward-auth for
// workspace Ingresses, server-sent events and the pages of webui/. It writes the same custom
// resources a kubectl user would and reads what it shows from the operator's informer caches.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "remotecode/controllers/config.h"
#include "remotecode/runtime/manager.h"

namespace rc::portal {

struct PortalOptions {
  std::string bind_address = ":8080";  // "0" disables the portal
  std::string user_namespace_prefix = "rc-";
  std::string default_gpu_quota = "4";   // requests.nvidia.com/gpu of each new user's namespace
  std::string default_pod_quota = "50";  // pods of each user's namespace ("" for none)
  std::string default_cpu_quota;         // requests.cpu ("" for none)
  std::string default_memory_quota;      // requests.memory ("" for none)
  int64_t session_ttl_seconds = 43200;
  // Trusted-header mode: an authenticating proxy in front names the user in this header. It is
  // believed only from `trusted_proxies`, and never on /auth/ routes (the ingress copies the
  // browser's own headers into forward-auth requests).
  std::string auth_header;
  // Comma-separated CIDRs of proxies whose X-Forwarded-For (and auth header) are believed.
  std::string trusted_proxies;
  // Admins made at start when their Secret does not exist yet, with this password (in
  // trusted-header mode without a password: accounts the proxy names).
  std::vector<std::string> initial_admins;
  std::string initial_admin_password;  // never logged
  int login_max_failures = 5;
  int max_streams_per_user = 8;         // concurrent /api/v1/events streams
  int max_connections_per_client = 64;  // open connections per client address (not proxies)
  // A request's whole header (or the next request on a kept-alive connection) must arrive
  // within this time; its body (when not streamed) within twice it.
  int request_header_timeout_seconds = 30;
  int64_t login_window_seconds = 300;
  std::string datasets_dir;  // "" disables /api/v1/datasets
  uint64_t max_upload_bytes = 100ull << 30;
  std::string webui_dir;  // serve pages from this directory instead of the embedded copy
  // Users who are not admins may run any image in a job; else only their templates' images.
  bool allow_any_image = false;
};

struct Context;

class Portal {
 public:
  // Registers the informers it reads (and their handlers) with the manager: construct before
  // manager.start().
  Portal(runtime::Manager& manager, controllers::OperatorConfig config, PortalOptions options);
  ~Portal();
  // Call after manager.start(): makes the initial admins and the session key, then listens.
  // Throws std::runtime_error naming what failed.
  void start();
  void stop();
  int port() const;

 private:
  std::shared_ptr<Context> ctx_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rc::portal

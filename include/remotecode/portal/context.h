// What every portal handler shares: the API client, the informer caches it reads, the user
// store, the session codec, the sign-in limiter, the live-update hub and the options.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/controllers/config.h"
#include "remotecode/kube/client.h"
#include "remotecode/portal/auth.h"
#include "remotecode/portal/client_address.h"
#include "remotecode/portal/datasets.h"
#include "remotecode/portal/events_hub.h"
#include "remotecode/portal/portal.h"
#include "remotecode/portal/router.h"
#include "remotecode/portal/users.h"
#include "remotecode/runtime/informer.h"

namespace rc::portal {

struct Informers {
  std::shared_ptr<runtime::Informer> templates, workspaces, trainingjobs, secrets, pods, quotas;
};

struct Context {
  std::shared_ptr<kube::Client> client;
  Informers informers;
  controllers::OperatorConfig config;
  PortalOptions options;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<SessionCodec> sessions;  // set by Portal::start
  std::unique_ptr<LoginLimiter> limiter;
  std::unique_ptr<DatasetStore> datasets;  // null without --datasets-dir
  EventsHub hub;
  TrustedProxies proxies;

  // The client's address for sign-in limits (X-Forwarded-For only from trusted proxies).
  std::string client_address(const http::Request& request) const {
    return proxies.client_address(request);
  }
  // False once the principal's session has ended (expired, signed out, password or role
  // changed, account gone): long-lived streams check it now and then.
  bool still_valid(const Principal& who) const;

  // The namespace a request acts in: `?namespace=` for admins, else the caller's own;
  // a user naming another namespace gets 404 (it does not exist for them).
  std::string target_namespace(const Call& call) const;
  // True when the caller may see objects in `ns`.
  bool may_see(const Principal& who, const std::string& ns) const;
  // Throws HttpError 503 until the informer caches have synced.
  void require_synced() const;
};

// Who sent the request: the trusted header (when configured), else the session cookie.
std::optional<Principal> authenticate(Context& ctx, const http::Request& request);

// {"name","namespace","createdAt","spec","status"} of a custom resource.
nlohmann::json object_view(const nlohmann::json& obj);

// Route registration, one file per area (operator/portal/api/*.cpp).
void add_account_routes(Router& router, Context& ctx);
void add_template_routes(Router& router, Context& ctx);
void add_shared_routes(Router& router, Context& ctx);
void add_workspace_routes(Router& router, Context& ctx);
void add_job_routes(Router& router, Context& ctx);
void add_dataset_routes(Router& router, Context& ctx);
void add_usage_routes(Router& router, Context& ctx);
void add_event_routes(Router& router, Context& ctx);
void add_forward_auth_routes(Router& router, Context& ctx);

}  // namespace rc::portal

#include "remotecode/portal/portal.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "remotecode/controllers/children.h"
#include "remotecode/kube/api_error.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/static_files.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

using nlohmann::json;

namespace {

// What one user's namespace may hold: GPUs (the queue admits runs within it), pods (a bound on
// CPU-only work too), and CPU and memory when the admin sets them.
json user_quota(const PortalOptions& o) {
  json hard = {{"requests.nvidia.com/gpu", o.default_gpu_quota}};
  if (!o.default_pod_quota.empty()) hard["pods"] = o.default_pod_quota;
  if (!o.default_cpu_quota.empty()) hard["requests.cpu"] = o.default_cpu_quota;
  if (!o.default_memory_quota.empty()) hard["requests.memory"] = o.default_memory_quota;
  return hard;
}

const char* const kSessionSecret = "remote-code-portal-session";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string cookie_value(const http::Request& req, const std::string& name) {
  const std::string header = req.header("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return "";
}

void publish_changes(runtime::Informer& informer, EventsHub& hub, std::string kind) {
  auto send = [&hub, kind](const runtime::ObjectPtr& obj, const char* type) {
    const json& md = obj->at("metadata");
    hub.publish({kind, type, md.value("name", ""), md.value("namespace", "")});
  };
  informer.add_handlers(
      {[send](const runtime::ObjectPtr& o) { send(o, "ADDED"); },
       [send](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { send(o, "MODIFIED"); },
       [send](const runtime::ObjectPtr& o) { send(o, "DELETED"); }});
}

// The key every replica signs sessions with: made once, kept in a Secret.
std::string session_key(kube::Client& client, const std::string& ns) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      auto s = client.get(controllers::refs::secrets(), ns, kSessionSecret);
      return util::base64_decode(s.at("data").at("key").get<std::string>());
    } catch (const kube::ApiError& e) {
      if (!e.not_found()) throw;
    }
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"type", "Opaque"},
                   {"metadata",
                    {{"name", kSessionSecret},
                     {"namespace", ns},
                     {"labels", {{"app.kubernetes.io/managed-by", "remote-code"}}}}},
                   {"data", {{"key", util::base64_encode(util::random_hex(32))}}}};
    try {
      client.create(controllers::refs::secrets(), ns, secret);
    } catch (const kube::ApiError& e) {
      if (!e.already_exists()) throw;  // another replica won: read theirs
    }
  }
  throw std::runtime_error("cannot read or create Secret " + ns + "/" + kSessionSecret);
}

}  // namespace

std::optional<Principal> authenticate(Context& ctx, const http::Request& req) {
  // The ingress copies the browser's headers into forward-auth requests, so there only the
  // session cookie counts; elsewhere the header counts only when a trusted proxy sent it.
  if (!ctx.options.auth_header.empty() && req.path.rfind("/auth/", 0) != 0 &&
      ctx.proxies.contains(req.remote_address)) {
    std::string name = req.header(ctx.options.auth_header);
    if (!name.empty()) {
      User u = ctx.users->ensure_external(name);
      Principal p{u.username, u.role, ctx.users->namespace_of(u.username), "hdr:" + name};
      p.from_header = true;
      return p;
    }
  }
  std::string cookie = cookie_value(req, "rc_session");
  if (cookie.empty() || !ctx.sessions) return std::nullopt;
  auto claims = ctx.sessions->decode(cookie, unix_now());
  if (!claims) return std::nullopt;
  auto user = ctx.users->find(claims->user);
  if (!user || user->session_epoch != claims->epoch) return std::nullopt;
  Principal p{user->username, user->role, ctx.users->namespace_of(user->username), cookie};
  p.expires = claims->expires;
  p.session_epoch = claims->epoch;
  return p;
}

Portal::Portal(runtime::Manager& manager, controllers::OperatorConfig config, PortalOptions options)
    : ctx_(std::make_shared<Context>()) {
  auto& c = *ctx_;
  c.client = manager.client();
  c.config = std::move(config);
  c.options = std::move(options);
  c.informers.templates = manager.informer(controllers::refs::templates());
  c.informers.workspaces = manager.informer(controllers::refs::workspaces());
  c.informers.trainingjobs = manager.informer(controllers::refs::trainingjobs());
  // The same namespaced informer as the Template controller's: users, the session key and
  // share Secrets all live in the operator's namespace.
  runtime::InformerOptions own_namespace;
  own_namespace.namespace_name = c.config.namespace_name;
  c.informers.secrets = manager.informer(controllers::refs::secrets(), own_namespace);
  c.informers.pods = manager.informer(controllers::refs::pods());
  c.informers.quotas = manager.informer(controllers::refs::resourcequotas());
  publish_changes(*c.informers.templates, c.hub, "template");
  publish_changes(*c.informers.workspaces, c.hub, "workspace");
  publish_changes(*c.informers.trainingjobs, c.hub, "job");
  c.users = std::make_unique<UserStore>(c.client, c.informers.secrets, c.config.namespace_name,
                                        c.options.user_namespace_prefix, user_quota(c.options));
  c.limiter = std::make_unique<LoginLimiter>(c.options.login_max_failures,
                                             std::chrono::seconds(c.options.login_window_seconds));
  c.proxies = TrustedProxies(c.options.trusted_proxies);
  if (!c.options.auth_header.empty() && c.proxies.empty())
    throw std::invalid_argument(
        "--auth-header needs --trusted-proxies: the header is believed only from the proxy");
  if (!c.options.datasets_dir.empty())
    c.datasets = std::make_unique<DatasetStore>(c.options.datasets_dir);
}

Portal::~Portal() {
  stop();
}

void Portal::start() {
  auto& c = *ctx_;
  if (c.options.bind_address == "0") return;
  c.sessions = std::make_unique<SessionCodec>(session_key(*c.client, c.config.namespace_name));
  for (const auto& name : c.options.initial_admins) {
    if (c.users->find(name)) {
      c.users->ensure_namespace(name);
      continue;
    }
    if (c.options.initial_admin_password.empty() && !c.options.auth_header.empty()) {
      c.users->ensure_external(name, Role::Admin);  // the proxy vouches for them
      continue;
    }
    if (c.options.initial_admin_password.empty())
      throw std::runtime_error("initial admin " + name +
                               " does not exist and no --initial-admin-password-file was given");
    try {
      c.users->create(name, c.options.initial_admin_password, Role::Admin);
    } catch (const HttpError& e) {
      throw std::runtime_error("cannot create initial admin " + name + ": " + e.what());
    }
    spdlog::info("portal: created initial admin {}", name);
  }

  auto ctx = ctx_;
  auto router =
      std::make_shared<Router>([ctx](const http::Request& r) { return authenticate(*ctx, r); },
                               [ctx](const std::string& binding, const std::string& token) {
                                 return ctx->sessions->check_csrf(binding, token);
                               });
  add_account_routes(*router, c);
  add_template_routes(*router, c);
  add_shared_routes(*router, c);
  add_workspace_routes(*router, c);
  add_job_routes(*router, c);
  add_dataset_routes(*router, c);
  add_usage_routes(*router, c);
  add_event_routes(*router, c);
  add_forward_auth_routes(*router, c);
  auto pages = std::make_shared<StaticFiles>(c.options.webui_dir);

  auto [host, port] = http::parse_listen_address(c.options.bind_address);
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  so.max_body_bytes = 1 << 20;  // JSON bodies; dataset uploads are streamed instead
  // Each connection is a thread: bound them, and close connections that only sit there.
  so.max_connections = 1024;
  so.idle_timeout_seconds = 300;
  // One client address cannot hold every connection (workspace URLs pass through
  // /auth/workspace too); proxies in front carry everyone's requests and are not limited.
  so.max_connections_per_address = c.options.max_connections_per_client;
  so.unlimited_address = [&c](const std::string& address) { return c.proxies.contains(address); };
  so.header_timeout_seconds = c.options.request_header_timeout_seconds;
  so.body_timeout_seconds = 2 * c.options.request_header_timeout_seconds;
  so.loggable_path = loggable_path;
  so.stream_request_body = [](const http::Request& r) {
    return r.method == "POST" && r.path.rfind("/api/v1/datasets/", 0) == 0;
  };
  server_ = std::make_unique<http::Server>(so, [router, pages](http::Request& req) {
    http::Response res;
    if (auto r = router->dispatch(req))
      res = std::move(*r);
    else if (auto p = pages->serve(req))
      res = std::move(*p);
    else
      res = error_response(404, "not_found", "no such route: " + req.path);
    res.set_header("X-Content-Type-Options", "nosniff");
    return res;
  });
  server_->start();
  spdlog::info("portal: listening on {}:{}", server_->host(), server_->port());
}

void Portal::stop() {
  if (!ctx_) return;
  ctx_->hub.close_all();
  if (server_) server_->stop();
}

int Portal::port() const {
  return server_ ? server_->port() : 0;
}

}  // namespace rc::portal

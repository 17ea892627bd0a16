// Share links: a signed-in user with a template's token (and its access key, when the template
// asks for one) gets their own workspace from it.
#include <openssl/crypto.h>

#include "remotecode/api/workspace.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/template_render.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/objects.h"
#include "remotecode/portal/workspaces.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

using nlohmann::json;

namespace {

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct Share {
  runtime::ObjectPtr tpl;
  std::string access_key;
  bool key_required = false;
};

// The template whose share Secret holds `token`; 404 when none does (or sharing is off).
Share find_share(const Context& ctx, const std::string& token) {
  for (const auto& secret :
       ctx.informers.secrets->store().list_namespace(ctx.config.namespace_name)) {
    const json labels = secret->at("metadata").value("labels", json::object());
    if (labels.value(controllers::kKindLabel, "") != controllers::tpl::kShareKind) continue;
    if (!same_secret(secret_data(*secret, "token"), token)) continue;
    auto tpl = ctx.informers.templates->store().get(labels.value(controllers::kNameLabel, ""));
    if (!tpl) break;
    json sharing = tpl->value("spec", json::object()).value("sharing", json::object());
    if (!sharing.value("enabled", false)) break;
    return {tpl, secret_data(*secret, "accessKey"), sharing.value("requireAccessKey", false)};
  }
  throw not_found("this share link is not valid (any more)");
}

runtime::ObjectPtr callers_workspace(const Context& ctx, const Principal& who,
                                     const std::string& tpl) {
  for (const auto& ws : ctx.informers.workspaces->store().list_namespace(who.namespace_name))
    if (ws->value("spec", json::object()).value("template", "") == tpl) return ws;
  return nullptr;
}

// The template's name, or it with a suffix when the caller has another workspace of that name.
std::string free_name(const Context& ctx, const std::string& ns, const std::string& base) {
  std::string name = base.substr(0, api::kMaxWorkspaceNameLength);
  for (int i = 2; ctx.informers.workspaces->store().get(ns + "/" + name); ++i)
    name = base.substr(0, api::kMaxWorkspaceNameLength - 4) + "-" + std::to_string(i);
  return name;
}

}  // namespace

void add_shared_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/shared/{token}", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    Share share = find_share(ctx, call.param("token"));
    json spec = share.tpl->value("spec", json::object());
    auto ws = callers_workspace(ctx, call.who(), share.tpl->at("metadata").value("name", ""));
    return json_response(
        200,
        {{"template", share.tpl->at("metadata").value("name", "")},
         {"ide", spec.value("ide", "vscode")},
         {"defaults", spec.value("resources", json::object()).value("default", json::object())},
         {"accessKeyRequired", share.key_required},
         {"workspace", ws ? object_view(*ws) : json(nullptr)}});
  });

  router.add("POST", "/api/v1/shared/{token}/workspaces", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    const Principal& who = call.who();
    const std::string address = ctx.client_address(call.request);
    if (int64_t wait = ctx.limiter->retry_after(who.user, address); wait > 0) {
      HttpError e(429, "rate_limited", "too many wrong access keys; try again later");
      e.headers.emplace_back("Retry-After", std::to_string(wait));
      throw e;
    }
    Share share = find_share(ctx, call.param("token"));
    json body = call.request.body.empty() ? json::object() : json_body(call.request);
    if (share.key_required) {
      std::string key = body.value("accessKey", "");
      if (!same_secret(key, share.access_key)) {
        ctx.limiter->record_failure(who.user, address);
        throw forbidden("the access key is wrong");
      }
    }
    const std::string tpl = share.tpl->at("metadata").value("name", "");
    if (auto ws = callers_workspace(ctx, who, tpl)) {
      json current = *ws;
      if (!current.value("spec", json::object()).value("running", true))
        current = ctx.client->patch(controllers::refs::workspaces(), who.namespace_name,
                                    current["metadata"].value("name", ""), kube::PatchType::Merge,
                                    {{"spec", {{"running", true}}}});
      return json_response(200, object_view(current));
    }
    json obj = {
        {"apiVersion", "remotecode.dev/v1alpha1"},
        {"kind", "Workspace"},
        {"metadata",
         {{"name", free_name(ctx, who.namespace_name, tpl)}, {"namespace", who.namespace_name}}},
        {"spec", {{"template", tpl}, {"owner", who.user}}}};
    validate_spec(obj, [](const json& o) { api::parse_workspace(o); });
    try {
      return json_response(201, object_view(create_workspace(ctx, who.namespace_name, obj, true)));
    } catch (const kube::ApiError& e) {
      // A second click before the cache showed the first: the workspace it made is the answer.
      if (!e.already_exists()) throw;
      json existing = ctx.client->get(controllers::refs::workspaces(), who.namespace_name,
                                      obj["metadata"]["name"].get<std::string>());
      if (existing.value("spec", json::object()).value("template", "") != tpl) throw;
      return json_response(200, object_view(existing));
    }
  });
}

}  // namespace rc::portal

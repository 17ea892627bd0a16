// Workspaces: a user's own (in their namespace), every namespace's for admins.
#include "remotecode/portal/workspaces.h"
#include "remotecode/api/workspace.h"
#include "remotecode/controllers/children.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/objects.h"

namespace rc::portal {

using nlohmann::json;

namespace {

void validate_workspace(const json& obj) {
  api::parse_workspace(obj);
}

http::Response no_content() {
  http::Response r;
  r.status = 204;
  return r;
}

}  // namespace

std::string workspace_owner(const Context& ctx, const json& workspace) {
  std::string owner = workspace.value("spec", json::object()).value("owner", "");
  if (!owner.empty()) return owner;
  // Made with kubectl in a user's namespace: that user's.
  return ctx.users->user_of_namespace(workspace.at("metadata").value("namespace", "")).value_or("");
}

json create_workspace(Context& ctx, const std::string& ns, json obj, bool via_share_or_admin) {
  const json& spec = obj.at("spec");
  check_against_template(ctx, spec.value("template", ""), spec.value("resources", json()), true,
                         via_share_or_admin);
  return ctx.client->create(controllers::refs::workspaces(), ns, obj);
}

void add_workspace_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/workspaces", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    return json_response(200, list_view(visible_objects(ctx, call, *ctx.informers.workspaces)));
  });

  router.add("POST", "/api/v1/workspaces", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    std::string ns = ctx.target_namespace(call);
    json body = json_body(call.request);
    if (body.contains("spec") && body["spec"].is_object()) {
      // The owner is whoever the namespace belongs to, never what the body says.
      body["spec"]["owner"] = ctx.users->user_of_namespace(ns).value_or(call.who().user);
    }
    json obj =
        object_from_body(body, "Workspace", ns, api::kMaxWorkspaceNameLength, validate_workspace);
    return json_response(201, object_view(create_workspace(ctx, ns, obj, call.who().admin())));
  });

  router.add("GET", "/api/v1/workspaces/{name}", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    auto ws = cached_or_404(*ctx.informers.workspaces, ctx.target_namespace(call),
                            call.param("name"), "workspace");
    return json_response(200, object_view(*ws));
  });

  router.add("PATCH", "/api/v1/workspaces/{name}", Access::SignedIn, [&ctx](Call& call) {
    json body = json_body(call.request);
    if (!body.contains("running") || !body["running"].is_boolean())
      throw bad_request("running: required, true or false");
    std::string ns = ctx.target_namespace(call);
    cached_or_404(*ctx.informers.workspaces, ns, call.param("name"), "workspace");
    json patched =
        ctx.client->patch(controllers::refs::workspaces(), ns, call.param("name"),
                          kube::PatchType::Merge, {{"spec", {{"running", body["running"]}}}});
    return json_response(200, object_view(patched));
  });

  router.add("DELETE", "/api/v1/workspaces/{name}", Access::SignedIn, [&ctx](Call& call) {
    std::string ns = ctx.target_namespace(call);
    cached_or_404(*ctx.informers.workspaces, ns, call.param("name"), "workspace");
    ctx.client->remove(controllers::refs::workspaces(), ns, call.param("name"));
    return no_content();
  });
}

}  // namespace rc::portal

// Templates: everyone signed in reads them (to start workspaces and jobs from); admins write
// them and see their share links and build logs.
#include "remotecode/api/template.h"
#include "remotecode/controllers/children.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/objects.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

using nlohmann::json;

namespace {

constexpr int64_t kBuildLogLines = 200;

void validate_template(const json& obj) {
  api::parse_template(obj);
}

json template_view(const Context& ctx, const json& tpl, const Principal& who) {
  json view = object_view(tpl);
  if (!who.admin()) return view;
  std::string secret_name = tpl.value("status", json::object()).value("shareSecret", "");
  if (secret_name.empty()) return view;
  auto secret = ctx.informers.secrets->store().get(ctx.config.namespace_name + "/" + secret_name);
  if (!secret) return view;
  std::string token = secret_data(*secret, "token");
  if (token.empty()) return view;
  json share = {{"token", token}, {"url", "/share/" + token}};
  if (requires_access_key(tpl)) share["accessKey"] = secret_data(*secret, "accessKey");
  view["share"] = share;
  return view;
}

}  // namespace

void add_template_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/templates", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    auto all = ctx.informers.templates->store().list();
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a->at("metadata").value("name", "") < b->at("metadata").value("name", "");
    });
    json items = json::array();
    for (const auto& t : all) items.push_back(template_view(ctx, *t, call.who()));
    return json_response(200, {{"items", items}});
  });

  router.add("POST", "/api/v1/templates", Access::Admin, [&ctx](Call& call) {
    json obj = object_from_body(json_body(call.request), "Template", "",
                                api::kMaxTemplateNameLength, validate_template);
    json created = ctx.client->create(controllers::refs::templates(), "", obj);
    return json_response(201, template_view(ctx, created, call.who()));
  });

  router.add("GET", "/api/v1/templates/{name}", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    auto tpl = cached_or_404(*ctx.informers.templates, "", call.param("name"), "template");
    return json_response(200, template_view(ctx, *tpl, call.who()));
  });

  router.add("PUT", "/api/v1/templates/{name}", Access::Admin, [&ctx](Call& call) {
    json body = json_body(call.request);
    if (!body.contains("spec") || !body["spec"].is_object())
      throw bad_request("spec: required, an object");
    json obj = ctx.client->get(controllers::refs::templates(), "", call.param("name"));
    obj["spec"] = body["spec"];
    validate_spec(obj, validate_template);
    json updated = ctx.client->update(controllers::refs::templates(), obj);
    return json_response(200, template_view(ctx, updated, call.who()));
  });

  router.add("DELETE", "/api/v1/templates/{name}", Access::Admin, [&ctx](Call& call) {
    ctx.client->remove(controllers::refs::templates(), "", call.param("name"));
    http::Response r;
    r.status = 204;
    return r;
  });

  router.add("GET", "/api/v1/templates/{name}/build", Access::Admin, [&ctx](Call& call) {
    ctx.require_synced();
    auto tpl = cached_or_404(*ctx.informers.templates, "", call.param("name"), "template");
    json status = tpl->value("status", json::object());
    json out = {{"phase", status.value("phase", "Pending")},
                {"image", status.value("image", "")},
                {"conditions", status.value("conditions", json::array())},
                {"log", ""}};
    std::string job = status.value("buildJob", "");
    if (job.empty()) return json_response(200, out);
    // The newest pod of the build Job holds the log of the current attempt.
    runtime::ObjectPtr newest;
    for (const auto& pod : ctx.informers.pods->store().list_namespace(ctx.config.namespace_name)) {
      const json& md = pod->at("metadata");
      if (md.value("labels", json::object()).value("job-name", "") != job) continue;
      if (!newest || md.value("creationTimestamp", "") >=
                         newest->at("metadata").value("creationTimestamp", ""))
        newest = pod;
    }
    if (newest) {
      try {
        out["log"] = ctx.client->logs(ctx.config.namespace_name,
                                      newest->at("metadata").value("name", ""), "", kBuildLogLines);
      } catch (const kube::ApiError&) {
        // The container has not started yet: no log so far.
      }
    }
    return json_response(200, out);
  });
}

}  // namespace rc::portal

#include "remotecode/portal/objects.h"

#include <algorithm>

#include "remotecode/api/common.h"
#include "remotecode/api/template.h"
#include "remotecode/portal/context.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

using nlohmann::json;

runtime::ObjectPtr cached_or_404(const runtime::Informer& informer, const std::string& ns,
                                 const std::string& name, const std::string& what) {
  auto obj = informer.store().get(ns.empty() ? name : ns + "/" + name);
  if (!obj) throw not_found(what + " " + name + " not found");
  return obj;
}

std::vector<runtime::ObjectPtr> visible_objects(const Context& ctx, const Call& call,
                                                const runtime::Informer& informer) {
  const Principal& who = call.who();
  auto ns = call.request.param("namespace");
  if (who.admin() && (!ns || ns->empty())) return informer.store().list();
  return informer.store().list_namespace(ctx.target_namespace(call));
}

void validate_spec(const json& obj, const std::function<void(const json&)>& validate) {
  try {
    validate(obj);
  } catch (const api::SpecError& e) {
    throw bad_request(e.what());
  }
}

json object_from_body(const json& body, const std::string& kind, const std::string& ns,
                      size_t max_name, const std::function<void(const json&)>& validate) {
  if (!body.contains("name") || !body["name"].is_string())
    throw bad_request("name: required, a string");
  std::string name = body["name"].get<std::string>();
  if (!api::is_dns_label(name) || name.size() > max_name)
    throw bad_request("name: must be at most " + std::to_string(max_name) +
                      " lower-case letters, digits and '-', starting and ending with a letter "
                      "or digit");
  if (!body.contains("spec") || !body["spec"].is_object())
    throw bad_request("spec: required, an object");
  json md = {{"name", name}};
  if (!ns.empty()) md["namespace"] = ns;
  json obj = {{"apiVersion", "remotecode.dev/v1alpha1"},
              {"kind", kind},
              {"metadata", md},
              {"spec", body["spec"]}};
  validate_spec(obj, validate);
  return obj;
}

void check_against_template(const Context& ctx, const std::string& template_name,
                            const json& requested_resources, bool needs_ide, bool key_checked) {
  auto tpl_obj = ctx.informers.templates->store().get(template_name);
  if (!tpl_obj)
    throw bad_request("spec.template: there is no template named \"" + template_name + "\"");
  if (!key_checked && requires_access_key(*tpl_obj))
    throw forbidden("template " + template_name +
                    " requires an access key: use its share link, or ask an admin");
  api::TemplateSpec tpl;
  try {
    tpl = api::parse_template(*tpl_obj);
  } catch (const api::SpecError& e) {
    throw bad_request("spec.template: template " + template_name + " is invalid: " + e.what());
  }
  if (needs_ide && tpl.ide == api::Ide::None)
    throw bad_request("spec.template: template " + template_name +
                      " is batch-only (ide: none); choose one with an IDE");
  api::Errors errors;
  api::Resources requested = api::parse_resources(requested_resources, "spec.resources", errors);
  api::effective_resources(requested, tpl.defaults, tpl.maximum, "spec.resources", errors);
  if (!errors.empty())
    throw bad_request(api::SpecError("ExceedsTemplateMaximum", errors.list()).what());
}

bool requires_access_key(const json& tpl) {
  return tpl.value("spec", json::object())
      .value("sharing", json::object())
      .value("requireAccessKey", false);
}

std::string secret_data(const json& secret, const std::string& key) {
  auto data = secret.value("data", json::object());
  if (!data.contains(key) || !data[key].is_string()) return "";
  try {
    return util::base64_decode(data[key].get<std::string>());
  } catch (const std::exception&) {
    return "";
  }
}

json list_view(std::vector<runtime::ObjectPtr> objects) {
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) {
    const json& ma = a->at("metadata");
    const json& mb = b->at("metadata");
    return std::pair(ma.value("name", ""), ma.value("namespace", "")) <
           std::pair(mb.value("name", ""), mb.value("namespace", ""));
  });
  json items = json::array();
  for (const auto& o : objects) items.push_back(object_view(*o));
  return {{"items", items}};
}

}  // namespace rc::portal

// What the workspace, job and template routes share: reading custom resources from the cache
// with tenancy applied, and writing them with the controller's own validation first.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/kube/client.h"
#include "remotecode/portal/router.h"
#include "remotecode/runtime/informer.h"

namespace rc::portal {

struct Context;

// The cached object, or HttpError 404 naming `what` ("workspace alice-ws").
runtime::ObjectPtr cached_or_404(const runtime::Informer& informer, const std::string& ns,
                                 const std::string& name, const std::string& what);

// Objects the caller may see: theirs, or for admins every namespace (or `?namespace=`).
std::vector<runtime::ObjectPtr> visible_objects(const Context& ctx, const Call& call,
                                                const runtime::Informer& informer);

// {"apiVersion","kind","metadata":{name,namespace},"spec"} from a {name, spec} body, with the
// name checked (DNS label of at most `max_name`) and the spec run through `validate` (a
// controller parse function); SpecError becomes 400 with the field named.
nlohmann::json object_from_body(const nlohmann::json& body, const std::string& kind,
                                const std::string& ns, size_t max_name,
                                const std::function<void(const nlohmann::json&)>& validate);

// Runs `validate` on `obj`, turning api::SpecError into HttpError 400.
void validate_spec(const nlohmann::json& obj,
                   const std::function<void(const nlohmann::json&)>& validate);

// What the controller would refuse once it resolves the template, refused before writing: a
// missing template (400), a batch-only template for a workspace, resources above the
// template's maximum (400 naming the field). A template that requires an access key may be
// used only by admins or through its share link (`key_checked`), else 403.
void check_against_template(const Context& ctx, const std::string& template_name,
                            const nlohmann::json& requested_resources, bool needs_ide,
                            bool key_checked);

// True when a Template object asks for an access key (spec.sharing.requireAccessKey).
bool requires_access_key(const nlohmann::json& tpl);

// The decoded value of data[key] of a Secret; "" when absent or not valid base64.
std::string secret_data(const nlohmann::json& secret, const std::string& key);

// Sorted by name (then namespace), as views.
nlohmann::json list_view(std::vector<runtime::ObjectPtr> objects);

}  // namespace rc::portal

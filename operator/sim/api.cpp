#include "remotecode/sim/api.h"

#include <algorithm>
#include <map>

#include "remotecode/kube/quantity.h"
#include "remotecode/sim/builtin_rules.h"
#include "remotecode/sim/custom_rules.h"
#include "remotecode/sim/patch.h"
#include "remotecode/sim/yaml_json.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::sim {

using nlohmann::json;

std::string new_uid() {
  std::string h = util::random_hex(16);
  h[12] = '4';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string default_field_manager(const std::string& user_agent) {
  std::string m = user_agent.substr(0, user_agent.find('/'));
  if (m.empty()) return "unknown";
  return m.size() > 128 ? m.substr(0, 128) : m;
}

namespace {

FieldSemantics list_semantics_for(const ResourceType& rt) {
  if (!rt.custom) return builtin_field_semantics(rt.kind);
  // Custom resources: x-kubernetes-list-type in the schema decides; lists are atomic otherwise.
  json schema =
      rt.crd_version.value("schema", json::object()).value("openAPIV3Schema", json::object());
  return ListSemanticsFn([schema](const std::vector<std::string>& path, const json&) {
    const json* s = &schema;
    for (const auto& p : path) {
      if (s->contains("items")) s = &(*s)["items"];
      if (s->contains("properties") && (*s)["properties"].contains(p)) {
        s = &(*s)["properties"][p];
      } else if (s->contains("additionalProperties") && (*s)["additionalProperties"].is_object()) {
        s = &(*s)["additionalProperties"];
      } else {
        return ListSemantics{};
      }
    }
    std::string type = s->value("x-kubernetes-list-type", "atomic");
    if (type == "map")
      return ListSemantics{ListSemantics::Map,
                           s->value("x-kubernetes-list-map-keys", std::vector<std::string>{})};
    if (type == "set") return ListSemantics{ListSemantics::Set, {}};
    return ListSemantics{};
  });
}

json strip_for_spec_compare(const json& obj) {
  json o = obj;
  o.erase("metadata");
  o.erase("status");
  return o;
}

bool has_deletion(const json& obj) {
  return obj.at("metadata").contains("deletionTimestamp");
}

bool finalizers_empty(const json& obj) {
  const auto& md = obj.at("metadata");
  if (md.contains("finalizers") && !md["finalizers"].empty()) return false;
  // Namespaces are finalized through spec.finalizers (the namespace controller's "kubernetes").
  if (obj.value("kind", "") == "Namespace" && obj.value("apiVersion", "") == "v1")
    return obj.value("spec", json::object()).value("finalizers", json::array()).empty();
  return true;
}

void check_kind(const ResourceType& rt, const json& obj) {
  if (obj.contains("apiVersion") && obj["apiVersion"].is_string()) {
    std::string av = obj["apiVersion"];
    if (av != rt.api_version())
      throw bad_request("the API version in the data (" + av +
                        ") does not match the expected API version (" + rt.api_version() + ")");
  }
  if (obj.contains("kind") && obj["kind"].is_string() && obj["kind"] != rt.kind)
    throw bad_request("the kind in the data (" + obj["kind"].get<std::string>() +
                      ") does not match the expected kind (" + rt.kind + ")");
}

}  // namespace

Api::Api(Store& store, TypeRegistry& types, ApiOptions options)
    : store_(store), types_(types), options_(options) {}

void Api::validate_and_default(const ResourceType& rt, json& obj, const ObjPtr& old,
                               const WriteOptions& opt) {
  if (rt.custom) {
    admit_custom_resource(rt, obj, opt.field_validation, opt.warnings);
  } else if (rt.plural == "customresourcedefinitions") {
    default_crd(obj);
  } else {
    default_builtin(rt, obj, old == nullptr);
  }
  json causes = validate_metadata(rt, obj);
  json more = rt.custom                                  ? json::array()
              : rt.plural == "customresourcedefinitions" ? validate_crd(obj)
                                                         : validate_builtin(rt, obj, old.get());
  for (auto& c : more) causes.push_back(c);
  if (!causes.empty()) throw invalid(rt, obj["metadata"].value("name", ""), causes);
}

void Api::admit_pod_quota(const json& pod) {
  std::string ns = pod["metadata"].value("namespace", "");
  auto quotas = store_.list("/resourcequotas", ns);
  if (quotas.empty()) return;
  auto pod_usage = [](const json& p) {
    std::map<std::string, double> u;
    u["pods"] = 1;
    u["count/pods"] = 1;
    for (const auto& c : p["spec"].value("containers", json::array())) {
      auto res = c.value("resources", json::object());
      for (const char* kind : {"requests", "limits"}) {
        for (const json items_src = res.value(kind, json::object());
             const auto& [name, q] : items_src.items()) {
          auto v = kube::parse_quantity(q);
          if (!v) continue;
          u[std::string(kind) + "." + name] += *v;
          if (std::string(kind) == "requests" && (name == "cpu" || name == "memory")) u[name] += *v;
        }
      }
    }
    return u;
  };
  auto requested = pod_usage(pod);
  std::map<std::string, double> used;
  for (const auto& p : store_.list("/pods", ns)) {
    std::string phase = (*p)["status"].value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") continue;
    for (auto& [k, v] : pod_usage(*p)) used[k] += v;
  }
  for (const auto& q : quotas) {
    auto hard = (*q)["spec"].value("hard", json::object());
    std::string req_s, used_s, lim_s;
    for (auto& [name, limit] : hard.items()) {
      auto lim = kube::parse_quantity(limit);
      if (!lim || !requested.count(name)) continue;
      if (used[name] + requested[name] > *lim + 1e-9) {
        auto add = [](std::string& s, const std::string& n, double v) {
          s += (s.empty() ? "" : ",") + n + "=" + kube::format_quantity(v);
        };
        add(req_s, name, requested[name]);
        add(used_s, name, used[name]);
        add(lim_s, name, *lim);
      }
    }
    if (!req_s.empty()) {
      auto pods_rt = types_.find("", "v1", "pods");
      throw forbidden(pods_rt.get(), pod["metadata"].value("name", ""),
                      "exceeded quota: " + (*q)["metadata"].value("name", "") +
                          ", requested: " + req_s + ", used: " + used_s + ", limited: " + lim_s);
    }
  }
}

json Api::do_create(const ResourceType& rt, const std::string& ns, json obj,
                    const WriteOptions& opt, bool managed_fields_done) {
  if (!obj.is_object()) throw bad_request("the object provided is not a JSON object");
  check_kind(rt, obj);
  obj["apiVersion"] = rt.api_version();
  obj["kind"] = rt.kind;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  auto& md = obj["metadata"];
  if (rt.namespaced) {
    std::string body_ns = md.value("namespace", "");
    if (!body_ns.empty() && body_ns != ns)
      throw bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    md["namespace"] = ns;
    auto nsobj = store_.get("/namespaces", object_key("", ns));
    if (!nsobj) {
      auto nsrt = types_.find("", "v1", "namespaces");
      throw not_found(*nsrt, ns);
    }
    if ((*nsobj)["status"].value("phase", "") == "Terminating") {
      StatusError e = forbidden(
          &rt, md.value("name", md.value("generateName", "")),
          "unable to create new content in namespace " + ns + " because it is being terminated");
      // Clients look for this cause (apierrors.HasStatusCause NamespaceTerminating).
      json details = e.status()["details"];
      details["causes"] = json::array({cause("NamespaceTerminating", "metadata.namespace",
                                             "namespace " + ns + " is being terminated")});
      throw StatusError(403, "Forbidden", e.what(), details);
    }
  } else {
    md.erase("namespace");
  }
  for (const char* f : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "selfLink"})
    md.erase(f);
  if (!managed_fields_done) md.erase("managedFields");
  std::string name = md.value("name", "");
  if (name.empty()) {
    std::string gen = md.value("generateName", "");
    if (gen.empty())
      throw invalid(rt, "",
                    json::array({cause("FieldValueRequired", "metadata.name",
                                       "Required value: name or generateName is required")}));
    for (int attempt = 0; attempt < 8; ++attempt) {
      name = gen + util::random_name_suffix(5);
      if (!store_.get(rt.id(), object_key(ns, name))) break;
    }
    md["name"] = name;
  }
  md["uid"] = new_uid();
  md["creationTimestamp"] = util::now_rfc3339();
  if (rt.tracks_generation) md["generation"] = 1;
  if (rt.has_status && !(rt.group.empty() && (rt.plural == "pods" || rt.plural == "namespaces")))
    obj.erase("status");
  if (rt.group.empty() && rt.plural == "pods")
    obj["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
  else if (rt.has_status && !rt.custom && rt.plural != "customresourcedefinitions" &&
           !obj.contains("status"))
    obj["status"] = json::object();  // Go's zero value, as the apiserver answers
  // Managed fields see the defaulted object, before the fields the server generates (a Job's
  // selector, a Service's IP), as on a real server.
  if (rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io")
    default_crd(obj);
  else if (!rt.custom)
    default_builtin(rt, obj, false);
  if (!managed_fields_done)
    record_update(json(), obj, opt.field_manager, list_semantics_for(rt), rt.api_version(),
                  util::now_rfc3339(), opt.status ? "status" : "");
  validate_and_default(rt, obj, nullptr, opt);
  if (store_.get(rt.id(), object_key(ns, name))) throw already_exists(rt, name);
  if (rt.group.empty() && rt.plural == "pods") admit_pod_quota(obj);
  if (rt.custom) {
    auto crd =
        store_.get("apiextensions.k8s.io/customresourcedefinitions", object_key("", rt.crd_name));
    if (crd && (*crd)["metadata"].contains("deletionTimestamp")) {
      StatusError e = method_not_supported(rt, "create");
      throw StatusError(405, "MethodNotAllowed",
                        "create not allowed while custom resource definition is terminating",
                        e.status()["details"]);
    }
  }
  if (rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io") {
    // As created; the names controller accepts the names and establishes the CRD moments later
    // (a status write by kube-apiserver, see Cluster::reconcile_crd).
    obj["status"] = {{"acceptedNames", {{"plural", ""}, {"kind", ""}}},
                     {"conditions", nullptr},
                     {"storedVersions", json::array()}};
    for (const auto& v : obj["spec"]["versions"])
      if (v.value("storage", false)) obj["status"]["storedVersions"].push_back(v["name"]);
    if (!opt.dry_run) types_.add_crd(obj);  // a name clash is reported by the names controller
  }
  if (opt.dry_run) return obj;
  return *store_.commit(rt.id(), std::move(obj), EventType::Added);
}

json Api::create(const ResourceType& rt, const std::string& ns, json obj, const WriteOptions& opt) {
  std::lock_guard lk(store_.mutex());
  return do_create(rt, ns, std::move(obj), opt, false);
}

json Api::prepare_update(const ResourceType& rt, const ObjPtr& existing, json obj,
                         const WriteOptions& opt, bool managed_fields_done) {
  const json& old = *existing;
  const auto& old_md = old.at("metadata");
  std::string name = old_md.value("name", "");
  if (!obj.is_object()) throw bad_request("the object provided is not a JSON object");
  check_kind(rt, obj);
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  auto& md = obj["metadata"];
  std::string body_name = md.value("name", name);
  if (body_name != name)
    throw bad_request("the name of the object (" + body_name +
                      ") does not match the name on the URL (" + name + ")");
  std::string body_rv = md.value("resourceVersion", "");
  if (body_rv.empty() && !rt.allow_unconditional_update && !managed_fields_done)
    throw invalid(rt, name,
                  json::array({cause("FieldValueInvalid", "metadata.resourceVersion",
                                     "Invalid value: 0: must be specified for an update")}));
  if (!body_rv.empty() && body_rv != old_md.value("resourceVersion", ""))
    throw stale_update(rt, name);
  if (md.contains("uid") && md["uid"] != old_md.value("uid", ""))
    throw conflict(rt, name,
                   "Precondition failed: UID in precondition: " + md["uid"].get<std::string>() +
                       ", UID in object meta: " + old_md.value("uid", ""));

  json updated;
  if (opt.status) {
    // The status subresource takes only status from the body.
    updated = old;
    if (obj.contains("status"))
      updated["status"] = obj["status"];
    else
      updated.erase("status");
    if (managed_fields_done && obj["metadata"].contains("managedFields"))
      updated["metadata"]["managedFields"] = obj["metadata"]["managedFields"];
  } else {
    updated = std::move(obj);
    updated["apiVersion"] = rt.api_version();
    updated["kind"] = rt.kind;
    auto& umd = updated["metadata"];
    for (const char* f : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation", "selfLink"}) {
      if (old_md.contains(f))
        umd[f] = old_md[f];
      else
        umd.erase(f);
    }
    if (!managed_fields_done) umd["managedFields"] = old_md.value("managedFields", json::array());
    if (rt.has_status) {
      if (old.contains("status"))
        updated["status"] = old["status"];
      else
        updated.erase("status");
    }
    // A deleting object may lose finalizers but gain none.
  }
  updated["metadata"]["resourceVersion"] = old_md.value("resourceVersion", "");
  validate_and_default(rt, updated, existing, opt);
  if (rt.tracks_generation && strip_for_spec_compare(updated) != strip_for_spec_compare(old) &&
      !opt.status)
    updated["metadata"]["generation"] = old_md.value("generation", 1) + 1;
  if (!managed_fields_done)
    record_update(old, updated, opt.field_manager, list_semantics_for(rt), rt.api_version(),
                  util::now_rfc3339(), opt.status ? "status" : "");
  return updated;
}

json Api::commit_update(const ResourceType& rt, const ObjPtr& existing, json updated,
                        const WriteOptions& opt) {
  if (updated == *existing) return updated;  // a no-op write stores nothing and bumps nothing
  if (opt.dry_run) return updated;
  if (has_deletion(updated) && finalizers_empty(updated)) {
    std::string key = object_key(updated["metadata"].value("namespace", ""),
                                 updated["metadata"].value("name", ""));
    return *store_.remove(rt.id(), key, std::move(updated));
  }
  if (rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io" && !opt.status)
    types_.add_crd(updated);
  return *store_.commit(rt.id(), std::move(updated), EventType::Modified);
}

json Api::update(const ResourceType& rt, const std::string& ns, const std::string& name, json obj,
                 const WriteOptions& opt) {
  std::lock_guard lk(store_.mutex());
  auto existing = store_.get(rt.id(), object_key(rt.namespaced ? ns : "", name));
  if (!existing) throw not_found(rt, name);
  json updated = prepare_update(rt, existing, std::move(obj), opt, false);
  return commit_update(rt, existing, std::move(updated), opt);
}

json Api::patch(const ResourceType& rt, const std::string& ns, const std::string& name,
                const std::string& type, const std::string& body, const WriteOptions& opt,
                bool* created) {
  std::lock_guard lk(store_.mutex());
  std::string key = object_key(rt.namespaced ? ns : "", name);
  auto existing = store_.get(rt.id(), key);
  std::string ct = type.substr(0, type.find(';'));
  if (ct == "application/apply-patch+yaml" || ct == "application/apply-patch+cbor") {
    if (opt.field_manager.empty())
      throw invalid(rt, name,
                    json::array({cause("FieldValueRequired", "fieldManager",
                                       "Required value: is required for apply patch")}));
    json config;
    try {
      config = yaml_to_json(body);
    } catch (const std::exception& e) {
      throw bad_request(e.what());
    }
    if (!config.is_object()) throw bad_request("apply patch must be a JSON or YAML object");
    check_kind(rt, config);
    if (!config.contains("apiVersion") || !config.contains("kind"))
      throw bad_request("invalid object type: /, Kind=");
    if (config.contains("metadata") && config["metadata"].value("name", name) != name)
      throw bad_request("the name of the object (" + config["metadata"].value("name", "") +
                        ") does not match the name on the URL (" + name + ")");
    std::string sub = opt.status ? "status" : "";
    // Status is applied only through /status; the main resource drops it, as the server does.
    if (!opt.status && rt.has_status) config.erase("status");
    if (!existing) {
      if (opt.status) throw not_found(rt, name);
      config["metadata"]["name"] = name;
      auto result =
          server_side_apply(json(), config, opt.field_manager, opt.force, list_semantics_for(rt),
                            rt.api_version(), util::now_rfc3339(), sub);
      if (created) *created = true;
      return do_create(rt, ns, std::move(result.object), opt, true);
    }
    // Apply works on the object as the client sees it: status only through /status.
    auto result =
        server_side_apply(*existing, config, opt.field_manager, opt.force, list_semantics_for(rt),
                          rt.api_version(), util::now_rfc3339(), sub);
    if (!result.conflicts.empty())
      throw StatusError(409, "Conflict", apply_conflict_message(result.conflicts),
                        {{"causes", apply_conflict_causes(result.conflicts)}});
    result.object["metadata"]["resourceVersion"] = (*existing)["metadata"]["resourceVersion"];
    json updated = prepare_update(rt, existing, std::move(result.object), opt, true);
    return commit_update(rt, existing, std::move(updated), opt);
  }
  if (!existing) throw not_found(rt, name);
  json patch_doc;
  try {
    patch_doc = json::parse(body);
  } catch (const std::exception& e) {
    throw bad_request(std::string("error decoding patch: ") + e.what());
  }
  json patched;
  try {
    if (ct == "application/json-patch+json") {
      if (!patch_doc.is_array())
        throw bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
      patched = existing->patch(patch_doc);
    } else if (ct == "application/merge-patch+json") {
      patched = *existing;
      patched.merge_patch(patch_doc);
    } else if (ct == "application/strategic-merge-patch+json") {
      if (rt.custom) throw unsupported_media_type(ct);
      patched = strategic_merge_patch(*existing, patch_doc, builtin_patch_semantics);
    } else {
      throw unsupported_media_type(ct);
    }
  } catch (const StatusError&) {
    throw;
  } catch (const PatchError& e) {
    if (e.code() == 400) throw bad_request(e.what());
    if (e.code() == 422) throw StatusError(422, "Invalid", e.what());
    throw internal_error(e.what());
  } catch (const std::exception& e) {
    throw StatusError(
        422, "Invalid",
        std::string("the server rejected our request due to an error in our request: ") + e.what());
  }
  if (!patched.is_object()) throw bad_request("the patch did not produce an object");
  // A patch that names no resourceVersion applies to the current object.
  std::string prv = patched["metadata"].value("resourceVersion", "");
  if (prv.empty())
    patched["metadata"]["resourceVersion"] = (*existing)["metadata"]["resourceVersion"];
  json updated = prepare_update(rt, existing, std::move(patched), opt, false);
  return commit_update(rt, existing, std::move(updated), opt);
}

DeleteResult Api::remove_locked(const ResourceType& rt, const ObjPtr& existing,
                                const DeleteOptions& opt) {
  const json& old = *existing;
  const auto& md = old.at("metadata");
  std::string name = md.value("name", "");
  // The apiserver names the kind here, not the resource (k8s.io/apiserver registry/rest).
  if (opt.precondition_uid && *opt.precondition_uid != md.value("uid", ""))
    throw conflict_on_kind(rt, name,
                           "the UID in the precondition (" + *opt.precondition_uid +
                               ") does not match the UID in record (" + md.value("uid", "") +
                               "). The object might have been deleted and then recreated");
  if (opt.precondition_rv && *opt.precondition_rv != md.value("resourceVersion", ""))
    throw conflict_on_kind(rt, name,
                           "the ResourceVersion in the precondition (" + *opt.precondition_rv +
                               ") does not match the ResourceVersion in record (" +
                               md.value("resourceVersion", "") +
                               "). The object might have been modified");
  std::string policy = opt.propagation.value_or(rt.orphan_by_default ? "Orphan" : "Background");
  if (policy != "Background" && policy != "Foreground" && policy != "Orphan")
    throw invalid(rt, name,
                  json::array({cause("FieldValueNotSupported", "propagationPolicy",
                                     "Unsupported value: \"" + policy +
                                         "\": supported values: \"Foreground\", \"Background\", "
                                         "\"Orphan\", \"nil\"")}));
  if (rt.orphan_by_default && !opt.propagation && opt.warnings)
    opt.warnings->push_back(
        "child pods are preserved by default when jobs are deleted; set "
        "propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress "
        "this warning");
  json obj = old;
  auto& omd = obj["metadata"];
  json finalizers = omd.value("finalizers", json::array());
  auto add_finalizer = [&](const char* f) {
    if (std::find(finalizers.begin(), finalizers.end(), f) == finalizers.end())
      finalizers.push_back(f);
  };
  if (policy == "Orphan") add_finalizer("orphan");
  if (policy == "Foreground") add_finalizer("foregroundDeletion");
  if (rt.group.empty() && rt.plural == "namespaces") {
    if (!omd.contains("deletionTimestamp")) {
      omd["deletionTimestamp"] = util::now_rfc3339();
      omd["deletionGracePeriodSeconds"] = 0;
      obj["status"]["phase"] = "Terminating";
      if (opt.dry_run) return {obj, false};
      return {*store_.commit(rt.id(), std::move(obj), EventType::Modified), false};
    }
    throw conflict(rt, name,
                   "The system is ensuring all content is removed from this namespace.  Upon "
                   "completion, this namespace will automatically be purged by the system.");
  }
  if (rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io")
    add_finalizer("customresourcecleanup.apiextensions.k8s.io");
  // Pods on a node are terminated by the kubelet first (graceful deletion).
  bool graceful =
      rt.group.empty() && rt.plural == "pods" && !old["spec"].value("nodeName", "").empty() &&
      opt.grace_period_seconds.value_or(1) > 0 && old["status"].value("phase", "") != "Succeeded" &&
      old["status"].value("phase", "") != "Failed";
  if (finalizers.empty() && !graceful) {
    if (opt.dry_run) return {rt.return_deleted_object ? old : status_success(), true};
    std::string key = object_key(md.value("namespace", ""), name);
    auto gone = store_.remove(rt.id(), key, old);
    if (rt.return_deleted_object) return {*gone, true};
    json details = {{"name", name}, {"kind", rt.plural}, {"uid", md.value("uid", "")}};
    if (!rt.group.empty()) details["group"] = rt.group;
    return {status_success(details), true};
  }
  if (omd.contains("deletionTimestamp")) {
    // Already deleting: a new policy may add its finalizer.
    if (finalizers == omd.value("finalizers", json::array())) return {old, false};
  } else {
    omd["deletionTimestamp"] = util::now_rfc3339();
    // Marking for deletion is a spec-level change for types that track generation.
    if (rt.tracks_generation && rt.plural != "customresourcedefinitions")
      omd["generation"] = omd.value("generation", 1) + 1;
    bool crd = rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io";
    if (!crd)
      omd["deletionGracePeriodSeconds"] = graceful
                                              ? opt.grace_period_seconds.value_or(old["spec"].value(
                                                    "terminationGracePeriodSeconds", 30))
                                              : 0;
    if (crd) {
      json conds = obj["status"].value("conditions", json::array());
      if (!conds.is_array()) conds = json::array();
      conds.push_back({{"type", "Terminating"},
                       {"status", "True"},
                       {"lastTransitionTime", util::now_rfc3339()},
                       {"reason", "InstanceDeletionPending"},
                       {"message",
                        "CustomResourceDefinition marked for deletion; CustomResource "
                        "deletion will begin soon"}});
      obj["status"]["conditions"] = conds;
    }
  }
  if (!finalizers.empty()) omd["finalizers"] = finalizers;
  if (opt.dry_run) return {obj, false};
  return {*store_.commit(rt.id(), std::move(obj), EventType::Modified), false};
}

DeleteResult Api::remove(const ResourceType& rt, const std::string& ns, const std::string& name,
                         const DeleteOptions& opt) {
  std::lock_guard lk(store_.mutex());
  auto existing = store_.get(rt.id(), object_key(rt.namespaced ? ns : "", name));
  if (!existing) throw not_found(rt, name);
  return remove_locked(rt, existing, opt);
}

void Api::finalize_if_done(const ResourceType& rt, const std::string& ns, const std::string& name) {
  std::lock_guard lk(store_.mutex());
  std::string key = object_key(rt.namespaced ? ns : "", name);
  auto existing = store_.get(rt.id(), key);
  if (!existing || !has_deletion(*existing) || !finalizers_empty(*existing)) return;
  store_.remove(rt.id(), key, *existing);
}

json Api::get(const ResourceType& rt, const std::string& ns, const std::string& name) {
  std::lock_guard lk(store_.mutex());
  auto existing = store_.get(rt.id(), object_key(rt.namespaced ? ns : "", name));
  if (!existing) throw not_found(rt, name);
  return *existing;
}

void Api::check_field_selector(const ResourceType& rt, const kube::FieldSelector& fs) const {
  for (const auto& t : fs.terms()) {
    if (t.field == "metadata.name" || (t.field == "metadata.namespace" && rt.namespaced)) continue;
    if (std::find(rt.field_selectors.begin(), rt.field_selectors.end(), t.field) !=
        rt.field_selectors.end())
      continue;
    // Kinds with no field selectors of their own answer as apimachinery's default conversion.
    if (rt.field_selectors.empty())
      throw bad_request("\"" + t.field +
                        "\" is not a known field selector: only \"metadata.name\", "
                        "\"metadata.namespace\"");
    throw bad_request("field label not supported: " + t.field);
  }
}

namespace {

struct ContinueToken {
  uint64_t rv = 0;
  std::string start;
};

std::string encode_continue(uint64_t rv, const std::string& start) {
  json t = {{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", start}};
  std::string b = util::base64_encode(t.dump());
  // RawURLEncoding, like the apiserver: no padding, URL alphabet.
  for (auto& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::optional<ContinueToken> decode_continue(std::string token) {
  for (auto& c : token) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (token.size() % 4) token.push_back('=');
  try {
    json t = json::parse(util::base64_decode(token));
    return ContinueToken{t.at("rv").get<uint64_t>(), t.at("start").get<std::string>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

ListResult Api::list(const ResourceType& rt, const std::string& ns, const ListOptions& opt) {
  check_field_selector(rt, opt.fields);
  std::lock_guard lk(store_.mutex());
  ListResult out;
  out.resource_version = store_.current_rv();
  std::string start;
  if (!opt.continue_token.empty()) {
    auto tok = decode_continue(opt.continue_token);
    if (!tok) throw bad_request("continue key is not valid: illegal base64 data at input byte 0");
    if (tok->rv < store_.oldest_watchable_rv())
      throw expired(
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue token in this "
          "response to retrieve the remainder of the results. Continuing with the provided token "
          "results in an inconsistent list - objects that were created, modified, or deleted "
          "between the time the first chunk was returned and now may show up in the list.");
    start = tok->start;
    out.resource_version = tok->rv;
  }
  auto all = store_.list(rt.id(), rt.namespaced ? ns : "");
  bool filtered = !opt.labels.empty() || !opt.fields.empty();
  size_t total_after = 0;
  for (const auto& o : all) {
    const auto& md = (*o)["metadata"];
    std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
    if (!start.empty() && key <= start) continue;
    if (!opt.labels.matches(md.value("labels", json::object()))) continue;
    if (!opt.fields.empty()) {
      json view = *o;
      if (!opt.fields.matches(view)) continue;
    }
    ++total_after;
    if (opt.limit > 0 && static_cast<int64_t>(out.items.size()) >= opt.limit) continue;
    out.items.push_back(o);
  }
  if (opt.limit > 0 && static_cast<int64_t>(total_after) > opt.limit) {
    const auto& md = (*out.items.back())["metadata"];
    out.continue_token = encode_continue(
        out.resource_version, object_key(md.value("namespace", ""), md.value("name", "")));
    if (!filtered) out.remaining = static_cast<int64_t>(total_after) - opt.limit;
  }
  return out;
}

json Api::delete_collection(const ResourceType& rt, const std::string& ns, const ListOptions& lopt,
                            const DeleteOptions& dopt) {
  ListOptions all = lopt;
  all.limit = 0;
  all.continue_token.clear();
  auto listed = list(rt, ns, all);
  json items = json::array();
  for (const auto& o : listed.items) {
    const auto& md = (*o)["metadata"];
    try {
      auto r = remove(rt, md.value("namespace", ""), md.value("name", ""), dopt);
      json item = r.body.value("kind", "") == "Status" ? *o : r.body;
      if (!rt.custom) {
        item.erase("kind");
        item.erase("apiVersion");
      }
      items.push_back(std::move(item));
    } catch (const StatusError& e) {
      if (e.code() != 404) throw;
    }
  }
  return {{"kind", rt.list_kind()},
          {"apiVersion", rt.api_version()},
          {"metadata", {{"resourceVersion", std::to_string(listed.resource_version)}}},
          {"items", items}};
}

}  // namespace rc::sim

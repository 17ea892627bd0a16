// Server-side apply and managedFields bookkeeping, as k8s.io/apiserver's fieldmanager stacks it
// over structured-merge-diff's merge.Updater: entries per (manager, operation, apiVersion for
// updates, subresource), metadata never tracked, before-first-apply, conflicts, pruning of fields
// an applier stopped applying, and the conflict error's wording.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "field_set.h"

namespace rc::sim {

using nlohmann::json;
using patch_detail::Comparison;
using patch_detail::FieldSet;
using patch_detail::TypedWalker;

namespace {

struct Entry {
  std::string manager, operation, api_version, subresource, time;
  FieldSet set;

  // The apiserver's manager identifier: appliers are one manager whatever version they apply.
  std::string identifier() const {
    std::string s =
        "{\"manager\":" + json(manager).dump() + ",\"operation\":" + json(operation).dump();
    if (operation != "Apply") s += ",\"apiVersion\":" + json(api_version).dump();
    if (!subresource.empty()) s += ",\"subresource\":" + json(subresource).dump();
    return s + "}";
  }
};

using Entries = std::vector<Entry>;

Entries decode(const json& managed_fields) {
  Entries out;
  if (managed_fields.is_null()) return out;
  if (!managed_fields.is_array()) throw std::invalid_argument("managedFields must be a list");
  for (const auto& m : managed_fields) {
    if (!m.is_object()) throw std::invalid_argument("managedFields entry must be an object");
    Entry e{m.value("manager", ""),     m.value("operation", ""), m.value("apiVersion", ""),
            m.value("subresource", ""), m.value("time", ""),      {}};
    if (m.value("fieldsType", "FieldsV1") != "FieldsV1")
      throw std::invalid_argument("unsupported fieldsType");
    if (m.contains("fieldsV1")) e.set = FieldSet::from_fields_v1(m["fieldsV1"]);
    if (e.operation != "Apply" && e.operation != "Update")
      throw std::invalid_argument("unknown operation " + e.operation);
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Entry& o) { return o.identifier() == e.identifier(); });
    if (same == out.end()) {
      out.push_back(std::move(e));
    } else {
      same->set = patch_detail::unite(same->set, e.set);
      same->time = std::max(same->time, e.time);
    }
  }
  return out;
}

json encode(Entries entries) {
  entries.erase(
      std::remove_if(entries.begin(), entries.end(), [](const Entry& e) { return e.set.empty(); }),
      entries.end());
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.operation, a.time, a.manager, a.api_version, a.subresource) <
           std::tie(b.operation, b.time, b.manager, b.api_version, b.subresource);
  });
  json out = json::array();
  for (const auto& e : entries) {
    json m = {{"manager", e.manager},
              {"operation", e.operation},
              {"apiVersion", e.api_version},
              {"fieldsType", "FieldsV1"},
              {"fieldsV1", e.set.to_fields_v1()}};
    if (!e.time.empty()) m["time"] = e.time;
    if (!e.subresource.empty()) m["subresource"] = e.subresource;
    out.push_back(std::move(m));
  }
  return out;
}

// Fields no manager owns: identity and server-set metadata (the apiserver's stripMetaManager).
const FieldSet& untracked() {
  static const FieldSet s = [] {
    FieldSet s;
    for (const char* f : {"apiVersion", "kind", "metadata"}) s.insert({std::string("f:") + f});
    for (const char* f : {"name", "namespace", "uid", "resourceVersion", "generation",
                          "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "managedFields", "selfLink", "clusterName"})
      s.insert({"f:metadata", std::string("f:") + f});
    return s;
  }();
  return s;
}

FieldSet tracked(const FieldSet& s) {
  return patch_detail::subtract(s, untracked());
}

json without_managed_fields(json obj) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object())
    obj["metadata"].erase("managedFields");
  return obj;
}

void set_managed_fields(json& obj, const Entries& entries) {
  json mf = encode(entries);
  if (mf.empty()) {
    if (obj.contains("metadata")) obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = std::move(mf);
  }
}

std::string gvk_string(const std::string& api_version, const json& obj) {
  std::string gv = api_version.find('/') == std::string::npos ? "/" + api_version : api_version;
  return gv + ", Kind=" + (obj.is_object() ? obj.value("kind", "") : "");
}

// What a create compares against: the type's zero value as the apiserver serializes it. Its
// non-pointer structs exist already, so a create does not own them as a whole (no "." in
// fieldsV1), e.g. a Deployment's spec, spec.template and spec.strategy.
json zero_object(const json& obj) {
  json z = {{"metadata", json::object()}};
  if (!obj.is_object()) return z;
  std::string kind = obj.value("kind", ""), av = obj.value("apiVersion", "");
  static const std::set<std::string> builtin_groups = {"v1",
                                                       "apps/v1",
                                                       "batch/v1",
                                                       "networking.k8s.io/v1",
                                                       "coordination.k8s.io/v1",
                                                       "policy/v1",
                                                       "events.k8s.io/v1",
                                                       "apiextensions.k8s.io/v1"};
  if (!builtin_groups.count(av)) return z;
  static const std::set<std::string> with_spec = {"Pod",
                                                  "Deployment",
                                                  "ReplicaSet",
                                                  "StatefulSet",
                                                  "DaemonSet",
                                                  "Job",
                                                  "CronJob",
                                                  "Service",
                                                  "PersistentVolumeClaim",
                                                  "PersistentVolume",
                                                  "Ingress",
                                                  "NetworkPolicy",
                                                  "Lease",
                                                  "Namespace",
                                                  "Node",
                                                  "ResourceQuota",
                                                  "PodDisruptionBudget",
                                                  "ReplicationController",
                                                  "LimitRange"};
  static const std::set<std::string> with_status = {"Pod",
                                                    "Deployment",
                                                    "ReplicaSet",
                                                    "StatefulSet",
                                                    "DaemonSet",
                                                    "Job",
                                                    "CronJob",
                                                    "Service",
                                                    "PersistentVolumeClaim",
                                                    "PersistentVolume",
                                                    "Ingress",
                                                    "Namespace",
                                                    "Node",
                                                    "ResourceQuota",
                                                    "PodDisruptionBudget",
                                                    "ReplicationController"};
  if (with_spec.count(kind)) z["spec"] = json::object();
  if (with_status.count(kind)) z["status"] = json::object();
  json pod_template = {{"metadata", {{"creationTimestamp", nullptr}}},
                       {"spec", {{"containers", nullptr}}}};
  if (kind == "Pod") z["spec"]["containers"] = nullptr;
  if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" ||
      kind == "DaemonSet" || kind == "Job")
    z["spec"]["template"] = pod_template;
  if (kind == "CronJob")
    z["spec"]["jobTemplate"] = {{"metadata", json::object()},
                                {"spec", {{"template", pod_template}}}};
  if (kind == "Deployment") z["spec"]["strategy"] = json::object();
  if (kind == "StatefulSet" || kind == "DaemonSet") z["spec"]["updateStrategy"] = json::object();
  if (kind == "Service" || kind == "Ingress") z["status"]["loadBalancer"] = json::object();
  if (kind == "PersistentVolumeClaim") z["spec"]["resources"] = json::object();
  if (kind == "Node") {
    z["status"]["daemonEndpoints"] = {{"kubeletEndpoint", json::object()}};
    z["status"]["nodeInfo"] = json::object();
  }
  if (kind == "CustomResourceDefinition") {
    z["spec"] = {{"names", json::object()}};
    z["status"] = {{"acceptedNames", json::object()}};
  }
  if (kind == "Event") {
    z["involvedObject"] = json::object();
    z["source"] = json::object();
  }
  return z;
}

// An update by `self` from old to new (merge.Updater.Update under the apiserver's
// managedFieldsUpdater): what it changed or added becomes self's and leaves the others, what it
// removed leaves everyone. Returns whether self took any field.
bool update_entries(Entries& entries, const Comparison& c, const Entry& self) {
  FieldSet changed = tracked(patch_detail::unite(c.modified, c.added));
  for (auto& e : entries)
    e.set = patch_detail::subtract(patch_detail::subtract(e.set, changed), c.removed);
  if (changed.empty()) return false;
  auto mine = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.identifier() == self.identifier(); });
  if (mine == entries.end()) {
    entries.push_back(self);
    mine = std::prev(entries.end());
  }
  mine->set = patch_detail::unite(mine->set, changed);
  mine->time = self.time;
  return true;
}

}  // namespace

nlohmann::json empty_object_of(const std::string& api_version, const std::string& kind) {
  json z = zero_object({{"apiVersion", api_version}, {"kind", kind}});
  z["apiVersion"] = api_version;
  z["kind"] = kind;
  return z;
}

ApplyResult server_side_apply(const json& live, const json& config, const std::string& manager,
                              bool force, const FieldSemantics& types,
                              const std::string& api_version, const std::string& now,
                              const std::string& subresource) {
  if (!config.is_object()) throw PatchError("apply patch must be an object", 400);
  if (config.contains("metadata") && config["metadata"].is_object() &&
      config["metadata"].contains("managedFields") &&
      !config["metadata"]["managedFields"].is_null())
    throw PatchError("metadata.managedFields must be nil", 400);
  TypedWalker walk(types, gvk_string(api_version, config));
  const json base = live.is_null() ? json::object() : without_managed_fields(live);

  Entries entries;
  if (!live.is_null()) {
    try {
      entries = decode(live.value("metadata", json::object()).value("managedFields", json()));
    } catch (const std::exception&) {
      entries.clear();
    }
    // An object nobody applied to yet: its fields belong to "before-first-apply".
    if (entries.empty())
      update_entries(entries, walk.compare(zero_object(base), base),
                     Entry{"before-first-apply", "Update", api_version, subresource, now, {}});
  }

  const FieldSet applied_full = walk.to_field_set(config, true);
  Entry self{manager, "Apply", api_version, subresource, "", tracked(applied_full)};
  auto mine = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.identifier() == self.identifier(); });
  FieldSet last = mine == entries.end() ? FieldSet{} : mine->set;

  json merged = walk.merge(base, config);
  // Prune what this manager applied last time and applies no more, unless someone else owns it.
  if (!last.empty()) {
    FieldSet owned = patch_detail::with_parent_fields(applied_full);
    for (const auto& e : entries)
      if (e.identifier() != self.identifier())
        owned = patch_detail::unite(owned, patch_detail::with_parent_fields(e.set));
    walk.remove(merged, patch_detail::subtract(patch_detail::with_parent_fields(last), owned));
  }

  Comparison c = walk.compare(base, merged);
  FieldSet changed = patch_detail::unite(c.modified, c.added);
  std::vector<const Entry*> others;
  for (const auto& e : entries)
    if (e.identifier() != self.identifier()) others.push_back(&e);
  std::sort(others.begin(), others.end(),
            [](const Entry* a, const Entry* b) { return a->identifier() < b->identifier(); });
  ApplyResult result;
  std::map<std::string, FieldSet> taken;
  for (const Entry* e : others) {
    FieldSet conflict = patch_detail::intersect(e->set, changed);
    if (conflict.empty()) continue;
    conflict.for_each([&](const patch_detail::Elements& p) {
      result.conflicts.push_back(FieldConflict{e->manager, patch_detail::path_string(p),
                                               e->operation, e->api_version, e->subresource});
    });
    taken[e->identifier()] = std::move(conflict);
  }
  if (!force && !result.conflicts.empty()) return result;
  result.conflicts.clear();

  for (auto& e : entries) {
    if (e.identifier() == self.identifier()) continue;
    auto t = taken.find(e.identifier());
    if (t != taken.end()) e.set = patch_detail::subtract(e.set, t->second);
    e.set = patch_detail::subtract(e.set, c.removed);
  }
  bool object_changed = merged != base;
  if (mine == entries.end()) {
    self.time = now;
    entries.push_back(std::move(self));
  } else {
    mine->set = std::move(self.set);
    mine->api_version = api_version;
    if (object_changed || mine->time.empty()) mine->time = now;
  }
  set_managed_fields(merged, entries);
  result.object = std::move(merged);
  return result;
}

void record_update(const json& old_obj, json& new_obj, const std::string& manager,
                   const FieldSemantics& types, const std::string& api_version,
                   const std::string& now, const std::string& subresource) {
  if (!new_obj.is_object()) return;
  const bool creating = old_obj.is_null();
  const json none;
  const json& old_mf =
      creating ? none : old_obj.value("metadata", json::object()).value("managedFields", none);
  const json new_mf = new_obj.value("metadata", json::object()).value("managedFields", none);

  // Whose managedFields to start from (decodeLiveOrNew): a subresource write never sets them; a
  // write of [] or [{}] resets them; a write of others replaces them; else the live ones stay.
  Entries entries;
  auto decode_or_empty = [](const json& mf) {
    try {
      return decode(mf);
    } catch (const std::exception&) {
      return Entries{};
    }
  };
  bool reset =
      new_mf.is_array() && (new_mf.empty() || (new_mf.size() == 1 && new_mf[0] == json::object()));
  if (!subresource.empty())
    entries = decode_or_empty(old_mf);
  else if (!reset) {
    entries = decode_or_empty(new_mf);
    if (entries.empty()) entries = decode_or_empty(old_mf);
  }
  json after = without_managed_fields(new_obj);
  // An existing object without managedFields stays untracked until someone applies to it.
  if (entries.empty() && !creating) {
    new_obj = std::move(after);
    return;
  }
  TypedWalker walk(types, gvk_string(api_version, new_obj));
  json before = creating ? zero_object(after) : without_managed_fields(old_obj);
  update_entries(entries, walk.compare(before, after),
                 Entry{manager, "Update", api_version, subresource, now, {}});
  new_obj = std::move(after);
  set_managed_fields(new_obj, entries);
}

static std::string print_manager(const FieldConflict& c) {
  std::string s = json(c.manager).dump();
  if (!c.subresource.empty()) s += " with subresource " + json(c.subresource).dump();
  if (c.operation == "Update") s += " using " + c.api_version;
  return s;
}

std::string apply_conflict_message(const std::vector<FieldConflict>& conflicts) {
  if (conflicts.size() == 1)
    return "Apply failed with 1 conflict: conflict with " + print_manager(conflicts[0]) + ": " +
           conflicts[0].field;
  // Grouped by manager, managers sorted by their identifier, paths in the order found.
  std::map<std::string, std::vector<const FieldConflict*>> by_manager;
  for (const auto& c : conflicts) {
    Entry e{c.manager, c.operation, c.api_version, c.subresource, "", {}};
    by_manager[e.identifier()].push_back(&c);
  }
  std::string msg = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
  bool first = true;
  for (const auto& [id, list] : by_manager) {
    msg += (first ? "" : "\n") + std::string("conflicts with ") + print_manager(*list[0]) + ":";
    for (const auto* c : list) msg += "\n- " + c->field;
    first = false;
  }
  return msg;
}

json apply_conflict_causes(const std::vector<FieldConflict>& conflicts) {
  json causes = json::array();
  for (const auto& c : conflicts)
    causes.push_back({{"type", "FieldManagerConflict"},
                      {"message", "conflict with " + print_manager(c)},
                      {"field", c.field}});
  return causes;
}

}  // namespace rc::sim

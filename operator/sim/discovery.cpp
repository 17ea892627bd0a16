#include "remotecode/sim/discovery.h"

#include <openssl/sha.h>

#include <algorithm>

#include "remotecode/util/encoding.h"

namespace rc::sim {

using nlohmann::json;

std::string storage_version_hash(const std::string& group, const std::string& version,
                                 const std::string& kind) {
  std::string s = group + "/" + version + "/" + kind;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return util::base64_encode(std::string(reinterpret_cast<char*>(md), 8));
}

json api_versions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

json api_group_list(const TypeRegistry& types) {
  json groups = json::array();
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> versions;
  for (const auto& [g, v] : types.group_versions()) {
    if (g.empty()) continue;
    if (!versions.count(g)) order.push_back(g);
    auto& vs = versions[g];
    if (std::find(vs.begin(), vs.end(), v) == vs.end()) vs.push_back(v);
  }
  for (const auto& g : order) {
    json entry = {{"name", g}, {"versions", json::array()}};
    std::string preferred;
    for (const auto& v : versions[g]) {
      entry["versions"].push_back({{"groupVersion", g + "/" + v}, {"version", v}});
      // A custom resource's storage version is preferred; otherwise the first served.
      for (const auto& t : types.all())
        if (t->group == g && t->version == v && t->custom && t->crd_version.value("storage", false))
          preferred = v;
    }
    if (preferred.empty()) preferred = versions[g].front();
    entry["preferredVersion"] = {{"groupVersion", g + "/" + preferred}, {"version", preferred}};
    groups.push_back(entry);
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json api_resource_list(const TypeRegistry& types, const std::string& group,
                       const std::string& version) {
  json resources = json::array();
  bool found = false;
  for (const auto& t : types.all()) {
    if (t->group != group || t->version != version) continue;
    found = true;
    json r = {{"name", t->plural},
              {"singularName", t->singular},
              {"namespaced", t->namespaced},
              {"kind", t->kind},
              {"verbs", t->verbs},
              {"storageVersionHash", storage_version_hash(t->group, t->version, t->kind)}};
    // Events of events.k8s.io share storage with core events and so their hash.
    if (t->group == "events.k8s.io")
      r["storageVersionHash"] = storage_version_hash("", "v1", "Event");
    // CRDs are still stored as apiextensions.k8s.io/v1beta1 by a 1.32 server.
    if (t->plural == "customresourcedefinitions" && !t->custom)
      r["storageVersionHash"] = storage_version_hash(t->group, "v1beta1", t->kind);
    if (!t->short_names.empty()) r["shortNames"] = t->short_names;
    if (!t->categories.empty()) r["categories"] = t->categories;
    resources.push_back(r);
    auto sub = [&](const std::string& name, json verbs) {
      resources.push_back({{"name", t->plural + "/" + name},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", verbs}});
    };
    if (t->has_status) sub("status", {"get", "patch", "update"});
    if (t->has_log) sub("log", {"get"});
  }
  if (!found) return nullptr;
  json list = {{"kind", "APIResourceList"},
               {"apiVersion", "v1"},
               {"groupVersion", group.empty() ? version : group + "/" + version},
               {"resources", resources}};
  if (group.empty()) list.erase("apiVersion");  // the core list is served without it
  return list;
}

json version_info() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-remotecode-sim"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

}  // namespace rc::sim

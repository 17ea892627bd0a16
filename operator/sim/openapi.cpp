#include "remotecode/sim/openapi.h"

#include <openssl/sha.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rc::sim {

using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string sha512_upper_hex(const std::string& data) {
  unsigned char md[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

std::string gv_path(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

std::string file_name(const std::string& path) {
  std::string f = path;
  for (size_t p = f.find('/'); p != std::string::npos; p = f.find('/')) f.replace(p, 1, "__");
  return f + "_openapi.json";
}

// Reverse domain notation, as kube-openapi names custom resource schemas.
std::string schema_name(const std::string& group, const std::string& version,
                        const std::string& kind) {
  std::vector<std::string> parts;
  std::stringstream ss(group);
  std::string p;
  while (std::getline(ss, p, '.')) parts.insert(parts.begin(), p);
  std::string out;
  for (const auto& x : parts) out += x + ".";
  return out + version + "." + kind;
}

json patch_params() {
  return json::array(
      {{{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
       {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
       {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
       {{"name", "force"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}}});
}

}  // namespace

OpenApi::OpenApi(const TypeRegistry& types, std::string openapi_dir)
    : types_(types), dir_(std::move(openapi_dir)) {
  if (!dir_.empty()) {
    for (const auto& candidate : {dir_ + "/swagger.json", dir_ + "/../v2/swagger.json"}) {
      swagger_ = read_file(candidate);
      if (!swagger_.empty()) break;
    }
  }
}

const json& OpenApi::meta_schemas() {
  if (!meta_schemas_.is_null()) return meta_schemas_;
  meta_schemas_ = json::object();
  if (!dir_.empty()) {
    std::string text = read_file(dir_ + "/" + file_name("apis/apps/v1"));
    if (!text.empty()) {
      auto doc = json::parse(text, nullptr, false);
      if (!doc.is_discarded())
        for (auto& [name, s] : doc["components"]["schemas"].items())
          if (name.rfind("io.k8s.apimachinery.pkg.apis.meta.v1.", 0) == 0) meta_schemas_[name] = s;
    }
  }
  if (meta_schemas_.empty()) {
    meta_schemas_["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = {
        {"type", "object"},
        {"description",
         "ObjectMeta is metadata that all persisted resources must have, which "
         "includes all objects users must create."},
        {"x-kubernetes-preserve-unknown-fields", true}};
    meta_schemas_["io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"] = {
        {"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  }
  return meta_schemas_;
}

json OpenApi::generated(const std::string& group, const std::string& version) {
  json schemas = json::object();
  json paths = json::object();
  for (const auto& t : types_.all()) {
    if (t->group != group || t->version != version) continue;
    json gvk = {{"group", group}, {"version", version}, {"kind", t->kind}};
    std::string name = schema_name(group.empty() ? "io.k8s.api.core" : group, version, t->kind);
    json s = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    if (t->custom) {
      s = t->crd_version.value("schema", json::object()).value("openAPIV3Schema", json::object());
      if (!s.contains("properties")) s["properties"] = json::object();
      s["properties"]["metadata"] = {
          {"description",
           "Standard object's metadata. More info: "
           "https://git.k8s.io/community/contributors/devel/sig-architecture/"
           "api-conventions.md#metadata"},
          {"allOf",
           {{{"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}}}};
      s["properties"]["apiVersion"] = {
          {"type", "string"},
          {"description",
           "APIVersion defines the versioned schema of this representation of an "
           "object. Servers should convert recognized schemas to the latest "
           "internal value, and may reject unrecognized values."}};
      s["properties"]["kind"] = {
          {"type", "string"},
          {"description",
           "Kind is a string value representing the REST resource this object "
           "represents. Servers may infer this from the endpoint the client "
           "submits requests to. Cannot be updated. In CamelCase."}};
    }
    s["x-kubernetes-group-version-kind"] = json::array({gvk});
    schemas[name] = s;
    schemas[name + "List"] = {
        {"type", "object"},
        {"required", {"items"}},
        {"properties",
         {{"apiVersion", {{"type", "string"}}},
          {"kind", {{"type", "string"}}},
          {"metadata",
           {{"allOf",
             {{{"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}}}}}},
          {"items", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/" + name}}}}}}},
        {"x-kubernetes-group-version-kind",
         json::array({{{"group", group}, {"version", version}, {"kind", t->kind + "List"}}})}};
    std::string base = "/" + gv_path(group, version) +
                       (t->namespaced ? "/namespaces/{namespace}/" : "/") + t->plural;
    json op = {{"x-kubernetes-group-version-kind", gvk},
               {"parameters", patch_params()},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    json item = {{"get", op}, {"put", op}, {"patch", op}, {"delete", op}};
    item["get"]["x-kubernetes-action"] = "get";
    item["put"]["x-kubernetes-action"] = "put";
    item["patch"]["x-kubernetes-action"] = "patch";
    item["delete"]["x-kubernetes-action"] = "delete";
    paths[base + "/{name}"] = item;
    json coll = {{"get", op}, {"post", op}};
    coll["get"]["x-kubernetes-action"] = "list";
    coll["post"]["x-kubernetes-action"] = "post";
    paths[base] = coll;
    if (t->has_status) paths[base + "/{name}/status"] = item;
  }
  for (auto& [k, v] : meta_schemas().items()) schemas[k] = v;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0-remotecode-sim"}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

std::string OpenApi::document(const std::string& path) {
  for (const auto& [g, v] : types_.group_versions()) {
    if (gv_path(g, v) != path) continue;
    bool custom = false;
    for (const auto& t : types_.all())
      if (t->group == g && t->version == v && t->custom) custom = true;
    if (!custom && !dir_.empty()) {
      std::lock_guard lk(mu_);
      auto it = file_cache_.find(path);
      if (it != file_cache_.end()) return it->second;
      std::string text = read_file(dir_ + "/" + file_name(path));
      if (!text.empty()) return file_cache_[path] = text;
    }
    std::lock_guard lk(mu_);
    return generated(g, v).dump();
  }
  return "";
}

json OpenApi::index() {
  json paths = json::object();
  for (const auto& [g, v] : types_.group_versions()) {
    std::string p = gv_path(g, v);
    std::string doc = document(p);
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + sha512_upper_hex(doc)}};
  }
  return {{"paths", paths}};
}

}  // namespace rc::sim

// Documents of named schemas (components.schemas of an OpenAPI v3 document) and the strict check
// of a whole object against the real Kubernetes documents.
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "remotecode/schema/validator.h"

namespace rc::schema {

using nlohmann::json;

namespace {

std::string gvk_key(const std::string& group, const std::string& version, const std::string& kind) {
  return group + "/" + version + "/" + kind;
}

// JSON pointer token unescaping (~1 is '/', ~0 is '~').
std::string unescape_pointer(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out.push_back(s[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Each file is parsed once per process; documents are immutable afterwards.
std::shared_ptr<const Document> cached_document(const std::string& file) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Document>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const Document> doc;
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec))
    doc = std::make_shared<const Document>(Document::load_file(file));
  cache.emplace(file, doc);
  return doc;
}

}  // namespace

Document Document::from_openapi(const json& doc) {
  return from_openapi(json(doc));
}

Document Document::from_openapi(json&& doc) {
  auto schemas = std::make_shared<json>(json::object());
  if (doc.is_object()) {
    auto comps = doc.find("components");
    if (comps != doc.end() && comps->is_object()) {
      auto s = comps->find("schemas");
      if (s != comps->end() && s->is_object()) *schemas = std::move(*s);
    } else if (auto defs = doc.find("definitions"); defs != doc.end() && defs->is_object()) {
      *schemas = std::move(*defs);  // Swagger 2.0
    }
  }
  Document d;
  d.index(std::move(schemas));
  return d;
}

Document Document::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open OpenAPI document " + path);
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error("cannot parse OpenAPI document " + path + ": " + e.what());
  }
  return from_openapi(std::move(doc));
}

void Document::index(std::shared_ptr<const json> schemas) {
  for (const auto& [name, s] : schemas->items()) {
    by_name_.emplace(name, &s);
    auto gvks = s.find("x-kubernetes-group-version-kind");
    if (gvks == s.end() || !gvks->is_array()) continue;
    for (const auto& g : *gvks) {
      if (!g.is_object()) continue;
      by_gvk_.emplace(gvk_key(g.value("group", ""), g.value("version", ""), g.value("kind", "")),
                      &s);
    }
  }
  storage_.push_back(std::move(schemas));
}

void Document::merge(const Document& other) {
  for (const auto& s : other.storage_) {
    bool have = false;
    for (const auto& mine : storage_) have = have || mine == s;
    if (!have) index(s);
  }
}

const json* Document::schema(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const json* Document::schema_for_gvk(const std::string& group, const std::string& version,
                                     const std::string& kind) const {
  auto it = by_gvk_.find(gvk_key(group, version, kind));
  return it == by_gvk_.end() ? nullptr : it->second;
}

const json* Document::resolve(const std::string& ref) const {
  for (std::string_view prefix : {"#/components/schemas/", "#/definitions/"}) {
    if (std::string_view(ref).starts_with(prefix))
      return schema(unescape_pointer(std::string_view(ref).substr(prefix.size())));
  }
  return nullptr;
}

std::string openapi_file_for(const std::string& api_version) {
  auto slash = api_version.find('/');
  if (slash == std::string::npos) return "api__" + api_version + "_openapi.json";
  return "apis__" + api_version.substr(0, slash) + "__" + api_version.substr(slash + 1) +
         "_openapi.json";
}

Result validate_object_strict(const json& object, const std::string& openapi_dir) {
  Result r;
  if (!object.is_object()) {
    r.causes.push_back({"FieldValueTypeInvalid", "",
                        "Invalid value: \"" + std::string(object.type_name()) +
                            "\": body must be of type object: \"" + object.type_name() + "\""});
    return r;
  }
  auto text = [&](const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string api_version = text("apiVersion"), kind = text("kind");
  if (api_version.empty())
    r.causes.push_back({"FieldValueRequired", "apiVersion", "Required value"});
  if (kind.empty()) r.causes.push_back({"FieldValueRequired", "kind", "Required value"});
  if (!r.ok()) return r;

  auto slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  auto doc = cached_document(openapi_dir + "/" + openapi_file_for(api_version));
  const json* s = doc ? doc->schema_for_gvk(group, version, kind) : nullptr;
  if (!s) {
    r.causes.push_back({"FieldValueNotSupported", doc ? "kind" : "apiVersion",
                        "no matches for kind \"" + kind + "\" in version \"" + api_version + "\""});
    return r;
  }
  json copy = object;
  Options opts;
  opts.report_unknown = true;
  opts.dialect = Dialect::kOpenApi;
  return validate(copy, *s, doc.get(), opts);
}

}  // namespace rc::schema

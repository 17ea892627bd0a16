// validate-objects --openapi-dir DIR < objects.yaml
//
// Checks every object of a multi-document YAML stream (e.g. `kubectl kustomize manifests/`)
// strictly against the real Kubernetes OpenAPI v3 documents in DIR: unknown fields, wrong types,
// missing required fields and unknown kinds are errors, as a strict server-side apply would
// report them. CustomResourceDefinitions are objects of apiextensions.k8s.io/v1 and are checked
// the same way. Prints one line per object ("ok Kind/name" or "error Kind/name: ...") and exits
// 1 when any object fails, 2 on bad usage or unreadable input.
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "remotecode/schema/validator.h"
#include "remotecode/sim/yaml_json.h"

namespace {

std::string describe(const nlohmann::json& obj, size_t index) {
  auto text = [&](const char* a, const char* b) -> std::string {
    const nlohmann::json* v = &obj;
    for (const char* key : {a, b}) {
      if (!key) break;
      if (!v->is_object() || !v->contains(key)) return "";
      v = &(*v)[key];
    }
    return v->is_string() ? v->get<std::string>() : "";
  };
  std::string kind = text("kind", nullptr), name = text("metadata", "name");
  std::string ns = text("metadata", "namespace");
  std::string out = (kind.empty() ? "document " + std::to_string(index) : kind) + "/" +
                    (name.empty() ? "<no name>" : name);
  return ns.empty() ? out : out + " (namespace " + ns + ")";
}

}  // namespace

int main(int argc, char** argv) {
  std::string openapi_dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--openapi-dir" && i + 1 < argc)
      openapi_dir = argv[++i];
    else if (a.starts_with("--openapi-dir="))
      openapi_dir = a.substr(std::string("--openapi-dir=").size());
    else {
      std::cerr << "validate-objects: unknown argument " << a << "\n";
      openapi_dir.clear();
      break;
    }
  }
  if (openapi_dir.empty()) {
    std::cerr << "usage: validate-objects --openapi-dir DIR < objects.yaml\n";
    return 2;
  }

  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::vector<nlohmann::json> objects;
  try {
    objects = rc::sim::yaml_documents_to_json(input);
  } catch (const std::exception& e) {
    std::cerr << "validate-objects: the input is not YAML: " << e.what() << "\n";
    return 2;
  }
  if (objects.empty()) {
    // An empty render is a broken render, not a valid one.
    std::cerr << "validate-objects: no objects on standard input\n";
    return 2;
  }

  int failed = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    auto result = rc::schema::validate_object_strict(objects[i], openapi_dir);
    if (result.ok()) {
      std::cout << "ok " << describe(objects[i], i) << "\n";
      continue;
    }
    ++failed;
    std::cout << "error " << describe(objects[i], i) << ":";
    for (const auto& c : result.causes)
      std::cout << " [" << (c.field.empty() ? "<root>" : c.field) << ": " << c.message << "]";
    std::cout << "\n";
  }
  std::cout << objects.size() - failed << " valid, " << failed << " invalid" << std::endl;
  return failed == 0 ? 0 : 1;
}

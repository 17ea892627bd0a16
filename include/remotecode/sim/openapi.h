// OpenAPI v3 served at /openapi/v3: for built-in group/versions the real documents from
// --openapi-dir when given (else a permissive stand-in that still declares fieldValidation),
// for custom resources a document generated from the CRD schema, as kube-apiserver does.
#pragma once
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/sim/type_registry.h"

namespace rc::sim {

class OpenApi {
 public:
  // openapi_dir: a folder of `<api|apis>__<group>__<version>_openapi.json` files, or "".
  OpenApi(const TypeRegistry& types, std::string openapi_dir);
  // The /openapi/v3 index.
  nlohmann::json index();
  // The document for "api/v1" or "apis/<group>/<version>" as a serialized string; "" if none.
  std::string document(const std::string& gv_path);
  // /openapi/v2 when a swagger.json is found beside the v3 documents; "" otherwise.
  const std::string& swagger() const { return swagger_; }

 private:
  nlohmann::json generated(const std::string& group, const std::string& version);
  const nlohmann::json& meta_schemas();

  const TypeRegistry& types_;
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::string> file_cache_;
  nlohmann::json meta_schemas_;
  std::string swagger_;
};

}  // namespace rc::sim

// One JSON-schema validator for two uses: the simulator validating custom resources against their
// CRD structural schema (pruning, defaulting, causes worded as kube-apiserver words them), and
// tests checking rendered objects against the real Kubernetes OpenAPI v3 documents, strictly.
#pragma once
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace rc::schema {

// One validation error, shaped as a Kubernetes StatusCause.
struct Cause {
  // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueTypeInvalid,
  // FieldValueTooLong, FieldValueTooMany, FieldValueDuplicate, FieldValueUnknown (a strict
  // unknown field), InternalError (an unresolvable $ref).
  std::string reason;
  // Kubernetes field path, no leading dot: "spec.replicas", "spec.containers[0].image". Empty for
  // the errors kube-apiserver reports without one (anyOf/oneOf/allOf/not, numeric range checks).
  std::string field;
  // The message exactly as kube-apiserver words it, e.g. `Required value`,
  // `Invalid value: 9: spec.gpus in body should be less than or equal to 8`.
  std::string message;

  bool operator==(const Cause&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Cause& c);  // readable gtest output

// Which rules apply where CRD structural schemas and built-in OpenAPI documents differ.
enum class Dialect {
  // apiextensions-apiserver: an object schema without properties holds no fields (unless
  // x-kubernetes-preserve-unknown-fields); apiVersion/kind/metadata are always kept at the root
  // and in embedded resources; a null is a type error unless nullable; numeric formats (int32,
  // int64, float, double) are ignored like the apiserver strips them; anyOf/oneOf/allOf/not add
  // their composite messages.
  kCrd,
  // Built-in types as a strict Go decode reads them: `{"type":"object"}` alone is free-form
  // (RawExtension, FieldsV1); null is accepted anywhere (Go's zero value); allOf/$ref wrappers
  // are transparent; int32/int64 formats are range-checked; oneOf of bare types
  // (IntOrString, Quantity) is a type union; Quantity strings are syntax-checked.
  kOpenApi,
};

struct Options {
  // CRD pruning: remove fields not in the schema, and non-nullable nulls without a default.
  bool prune_unknown = false;
  // Strict: each unknown field is a Cause (reason FieldValueUnknown, message
  // `unknown field "spec.foo"`). Combined with prune_unknown, the field is reported and removed.
  bool report_unknown = false;
  // CRD defaulting: fill `default` values (and replace non-nullable nulls), applied before
  // validation like the apiserver.
  bool apply_defaults = false;
  Dialect dialect = Dialect::kCrd;
  // The value validated at path "" is a whole resource: in the CRD dialect its apiVersion, kind
  // and metadata are never pruned or reported, and only metadata.name/generateName are checked
  // against the schema (the server validates ObjectMeta itself).
  bool resource_root = true;
};

struct Result {
  std::vector<Cause> causes;
  bool ok() const { return causes.empty(); }
  // "field: message" lines, for test failure output and logs.
  std::string to_string() const;
};

// A set of schemas addressable by "#/components/schemas/NAME" refs (one OpenAPI v3 document, or
// several merged). Cheap to copy: the schemas themselves are shared and never copied per call.
class Document {
 public:
  Document() = default;
  static Document from_openapi(const nlohmann::json& doc);  // takes components.schemas
  static Document from_openapi(nlohmann::json&& doc);
  static Document load_file(const std::string& path);  // throws std::runtime_error naming the file
  // Adds the other document's schemas; on a name (or group/version/kind) clash, ours is kept.
  void merge(const Document& other);

  const nlohmann::json* schema(const std::string& name) const;  // by component name
  // The component whose x-kubernetes-group-version-kind matches; nullptr if none.
  const nlohmann::json* schema_for_gvk(const std::string& group, const std::string& version,
                                       const std::string& kind) const;
  // "#/components/schemas/NAME" (or "#/definitions/NAME") to the schema; nullptr if unknown.
  const nlohmann::json* resolve(const std::string& ref) const;
  size_t size() const { return by_name_.size(); }

 private:
  void index(std::shared_ptr<const nlohmann::json> schemas);

  std::vector<std::shared_ptr<const nlohmann::json>> storage_;
  std::unordered_map<std::string, const nlohmann::json*> by_name_;
  std::map<std::string, const nlohmann::json*> by_gvk_;  // "group/version/kind"
};

// Validates (and, per options, prunes/defaults) `value` in place against `schema` (refs resolved
// in `doc`, may be null for CRD schemas which have none). `path` is the field path prefix for
// messages ("" at root). Causes come in this order: unknown fields, schema violations, list-type
// duplicates (the order kube-apiserver runs those checks in).
Result validate(nlohmann::json& value, const nlohmann::json& schema, const Document* doc,
                const Options& opts, const std::string& path = "");

// Convenience for tests: validates a whole Kubernetes object strictly (Dialect::kOpenApi, unknown
// fields reported) against the schema of its apiVersion/kind, loading the documents from
// `openapi_dir` (e.g. ../shared/k8s-openapi/v3; each file is parsed once per process). An
// unknown apiVersion/kind is itself a Cause.
Result validate_object_strict(const nlohmann::json& object, const std::string& openapi_dir);

// The document file serving an apiVersion: "v1" -> "api__v1_openapi.json",
// "apps/v1" -> "apis__apps__v1_openapi.json".
std::string openapi_file_for(const std::string& api_version);

}  // namespace rc::schema

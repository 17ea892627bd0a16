// The schema validator: each CRD keyword violated gives the cause kube-apiserver gives; pruning,
// nulls and defaults; and rendered-style objects checked strictly against the real Kubernetes
// 1.32 OpenAPI v3 documents.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "remotecode/schema/validator.h"

namespace rc::schema {
namespace {

using nlohmann::json;

const std::string kOpenApiDir = std::string(RC_SHARED_DIR) + "/k8s-openapi/v3";

// A CRD structural schema in the shape of ours, with one field per keyword under test.
const json& crd_schema() {
  static const json s = json::parse(R"({
    "type": "object",
    "properties": {
      "apiVersion": {"type": "string"},
      "kind": {"type": "string"},
      "metadata": {"type": "object"},
      "spec": {
        "type": "object",
        "required": ["image"],
        "properties": {
          "image": {"type": "string", "minLength": 1, "maxLength": 64},
          "name": {"type": "string", "pattern": "^[a-z]+$"},
          "gpus": {"type": "integer", "minimum": 0, "maximum": 8, "default": 1},
          "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1},
          "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
          "small": {"type": "integer", "format": "int32"},
          "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2,
                   "x-kubernetes-list-type": "set"},
          "env": {"type": "array", "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"},
                                           "value": {"type": "string"}}}},
          "labels": {"type": "object", "additionalProperties": {"type": "string"},
                     "maxProperties": 2},
          "opts": {"type": "object", "minProperties": 1, "properties": {"a": {"type": "string"}}},
          "port": {"x-kubernetes-int-or-string": true,
                   "anyOf": [{"type": "integer"}, {"type": "string"}]},
          "when": {"type": "string", "format": "date-time"},
          "data": {"type": "string", "format": "byte"},
          "note": {"type": "string", "nullable": true},
          "timeout": {"type": "string"},
          "uniq": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true},
          "count": {"type": "integer", "multipleOf": 2},
          "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
          "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                       "properties": {"spec": {"type": "object",
                                               "properties": {"x": {"type": "string"}}}}}
        }
      },
      "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
    }
  })");
  return s;
}

json job() {
  return json::parse(R"({
    "apiVersion": "remotecode.dev/v1alpha1",
    "kind": "TrainingJob",
    "metadata": {"name": "train", "namespace": "ml", "labels": {"team": "a"}},
    "spec": {"image": "pytorch:2.4"}
  })");
}

Result check(json& obj, const Options& opts = {}) {
  return validate(obj, crd_schema(), nullptr, opts);
}

// Validates job() with spec.<field> = value and returns the causes.
std::vector<Cause> with_spec(const std::string& field, const json& value) {
  json obj = job();
  obj["spec"][field] = value;
  return check(obj).causes;
}

using Causes = std::vector<Cause>;

TEST(SchemaCrd, ValidObjectPasses) {
  json obj = job();
  obj["spec"].update(json::parse(R"({
    "name": "abc", "gpus": 8, "ratio": 1, "mode": "b", "tags": ["x", "y"],
    "env": [{"name": "A", "value": "1"}, {"name": "B"}], "labels": {"a": "1", "b": "2"},
    "opts": {"a": "x"}, "port": 8080, "when": "2024-05-06T07:08:09Z", "data": "aGVsbG8=",
    "note": null, "uniq": [1, 2], "count": 4, "extra": {"any": {"thing": [1]}}
  })"));
  json before = obj;
  Result r = check(obj);
  EXPECT_TRUE(r.ok()) << r.to_string();
  EXPECT_EQ(obj, before);  // nothing pruned or defaulted without the options
}

TEST(SchemaCrd, Required) {
  json obj = job();
  obj["spec"].erase("image");
  EXPECT_EQ(check(obj).causes, (Causes{{"FieldValueRequired", "spec.image", "Required value"}}));
}

TEST(SchemaCrd, MaximumAndMinimum) {
  EXPECT_EQ(with_spec("gpus", 9),
            (Causes{{"FieldValueInvalid", "spec.gpus",
                     "Invalid value: 9: spec.gpus in body should be less than or equal to 8"}}));
  EXPECT_EQ(
      with_spec("gpus", -1),
      (Causes{{"FieldValueInvalid", "spec.gpus",
               "Invalid value: -1: spec.gpus in body should be greater than or equal to 0"}}));
  EXPECT_EQ(with_spec("ratio", 0.0),
            (Causes{{"FieldValueInvalid", "spec.ratio",
                     "Invalid value: 0: spec.ratio in body should be greater than 0"}}));
  // Floats print the way Go's %v prints them.
  EXPECT_EQ(
      with_spec("ratio", 1000000.0),
      (Causes{{"FieldValueInvalid", "spec.ratio",
               "Invalid value: 1e+06: spec.ratio in body should be less than or equal to 1"}}));
  EXPECT_EQ(with_spec("ratio", 1.5),
            (Causes{{"FieldValueInvalid", "spec.ratio",
                     "Invalid value: 1.5: spec.ratio in body should be less than or equal to 1"}}));
}

TEST(SchemaCrd, TypeMismatch) {
  EXPECT_EQ(with_spec("gpus", "string"),
            (Causes{{"FieldValueTypeInvalid", "spec.gpus",
                     "Invalid value: \"string\": spec.gpus in body must be of type integer: "
                     "\"string\""}}));
  EXPECT_EQ(with_spec("image", json::array()),
            (Causes{{"FieldValueTypeInvalid", "spec.image",
                     "Invalid value: \"array\": spec.image in body must be of type string: "
                     "\"array\""}}));
  EXPECT_EQ(with_spec("spec_is_fine", 1).size(), 0u);  // unknown, not validated without options
}

TEST(SchemaCrd, IntegralFloatIsAnInteger) {
  // kube-openapi accepts a float with an integral value where an integer is expected (YAML 1.0).
  EXPECT_TRUE(with_spec("gpus", 2.0).empty());
  EXPECT_EQ(with_spec("gpus", 2.5),
            (Causes{{"FieldValueTypeInvalid", "spec.gpus",
                     "Invalid value: \"number\": spec.gpus in body must be of type integer: "
                     "\"number\""}}));
}

TEST(SchemaCrd, StringConstraints) {
  EXPECT_EQ(with_spec("name", "ABC"),
            (Causes{{"FieldValueInvalid", "spec.name",
                     "Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'"}}));
  EXPECT_EQ(with_spec("image", ""),
            (Causes{{"FieldValueInvalid", "spec.image",
                     "Invalid value: \"\": spec.image in body should be at least 1 chars long"}}));
  EXPECT_EQ(
      with_spec("image", std::string(65, 'x')),
      (Causes{{"FieldValueTooLong", "spec.image", "Too long: may not be more than 64 bytes"}}));
  // Length counts characters, not bytes (utf8.RuneCount).
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(with_spec("image", wide).empty());
}

TEST(SchemaCrd, Enum) {
  EXPECT_EQ(with_spec("mode", "c"),
            (Causes{{"FieldValueNotSupported", "spec.mode",
                     "Unsupported value: \"c\": supported values: \"a\", \"b\""}}));
}

TEST(SchemaCrd, ArraySizes) {
  EXPECT_EQ(with_spec("tags", json::array({"a", "b", "c"})),
            (Causes{{"FieldValueTooMany", "spec.tags", "Too many: 3: must have at most 2 items"}}));
  EXPECT_EQ(with_spec("tags", json::array()),
            (Causes{{"FieldValueInvalid", "spec.tags",
                     "Invalid value: 0: spec.tags in body should have at least 1 items"}}));
  EXPECT_EQ(with_spec("uniq", json::array({1, 1})),
            (Causes{{"FieldValueInvalid", "spec.uniq",
                     "Invalid value: \"\": spec.uniq in body shouldn't contain duplicates"}}));
}

TEST(SchemaCrd, ListTypeDuplicates) {
  EXPECT_EQ(with_spec("tags", json::array({"x", "x"})),
            (Causes{{"FieldValueDuplicate", "spec.tags[1]", "Duplicate value: \"x\""}}));
  EXPECT_EQ(
      with_spec("env", json::parse(R"([{"name":"a"},{"name":"b"},{"name":"a","value":"2"}])")),
      (Causes{{"FieldValueDuplicate", "spec.env[2]",
               "Duplicate value: map[string]interface {}{\"name\":\"a\"}"}}));
  EXPECT_EQ(
      with_spec("env", json::array({"a"})),
      (Causes{{"FieldValueTypeInvalid", "spec.env[0]",
               "Invalid value: \"string\": spec.env[0] in body must be of type object: \"string\""},
              {"FieldValueInvalid", "spec.env[0]",
               "Invalid value: \"a\": must be an object for an array of list-type map"}}));
  EXPECT_EQ(with_spec("env", json::parse(R"([{"value":"x"}])")),
            (Causes{{"FieldValueRequired", "spec.env[0].name", "Required value"}}));
}

TEST(SchemaCrd, Maps) {
  EXPECT_EQ(
      with_spec("labels", json::parse(R"({"a":"1","b":"2","c":"3"})")),
      (Causes{{"FieldValueTooMany", "spec.labels", "Too many: 3: must have at most 2 items"}}));
  EXPECT_EQ(with_spec("labels", json::parse(R"({"a":1})")),
            (Causes{{"FieldValueTypeInvalid", "spec.labels.a",
                     "Invalid value: \"integer\": spec.labels.a in body must be of type string: "
                     "\"integer\""}}));
  EXPECT_EQ(with_spec("opts", json::object()),
            (Causes{{"FieldValueInvalid", "spec.opts",
                     "Invalid value: 0: spec.opts in body should have at least 1 properties"}}));
}

TEST(SchemaCrd, MultipleOf) {
  EXPECT_EQ(with_spec("count", 3),
            (Causes{{"FieldValueInvalid", "spec.count",
                     "Invalid value: 3: spec.count in body should be a multiple of 2"}}));
}

TEST(SchemaCrd, IntOrString) {
  EXPECT_TRUE(with_spec("port", 80).empty());
  EXPECT_TRUE(with_spec("port", "http").empty());
  EXPECT_EQ(
      with_spec("port", true),
      (Causes{{"FieldValueTypeInvalid", "spec.port",
               "Invalid value: \"boolean\": spec.port in body must be of type "
               "integer,string: \"boolean\""},
              {"FieldValueInvalid", "",
               "Invalid value: \"\": \"spec.port\" must validate at least one schema (anyOf)"},
              {"FieldValueTypeInvalid", "spec.port",
               "Invalid value: \"boolean\": spec.port in body must be of type integer: "
               "\"boolean\""}}));
}

TEST(SchemaCrd, Formats) {
  EXPECT_TRUE(with_spec("when", "2024-05-06T07:08:09.123+02:00").empty());
  EXPECT_EQ(with_spec("when", "yesterday"),
            (Causes{{"FieldValueTypeInvalid", "spec.when",
                     "Invalid value: \"yesterday\": spec.when in body must be of type date-time: "
                     "\"yesterday\""}}));
  EXPECT_EQ(with_spec("data", "not base64!"),
            (Causes{{"FieldValueTypeInvalid", "spec.data",
                     "Invalid value: \"not base64!\": spec.data in body must be of type byte: "
                     "\"not base64!\""}}));
  // A number where a formatted string belongs: kube-openapi names the format.
  EXPECT_EQ(with_spec("when", 5),
            (Causes{{"FieldValueTypeInvalid", "spec.when",
                     "Invalid value: \"int64\": spec.when in body must be of type date-time: "
                     "\"int64\""}}));
  // The apiserver strips numeric formats from CRD schemas: int32 is not range-checked.
  EXPECT_TRUE(with_spec("small", int64_t{1} << 40).empty());
}

TEST(SchemaCrd, Nulls) {
  EXPECT_TRUE(with_spec("note", nullptr).empty());  // nullable
  EXPECT_EQ(with_spec("timeout", nullptr),
            (Causes{{"FieldValueTypeInvalid", "spec.timeout",
                     "Invalid value: \"null\": spec.timeout in body must be of type string: "
                     "\"null\""}}));
  // What the server does: a non-nullable null without a default is dropped before validation,
  // one with a default gets the default, a nullable null stays.
  json obj = job();
  obj["spec"]["timeout"] = nullptr;
  obj["spec"]["gpus"] = nullptr;
  obj["spec"]["note"] = nullptr;
  Options opts;
  opts.prune_unknown = true;
  opts.apply_defaults = true;
  Result r = check(obj, opts);
  EXPECT_TRUE(r.ok()) << r.to_string();
  EXPECT_FALSE(obj["spec"].contains("timeout"));
  EXPECT_EQ(obj["spec"]["gpus"], 1);
  EXPECT_TRUE(obj["spec"]["note"].is_null());
}

TEST(SchemaCrd, Defaults) {
  json obj = job();
  Options opts;
  opts.apply_defaults = true;
  ASSERT_TRUE(check(obj, opts).ok());
  EXPECT_EQ(obj["spec"]["gpus"], 1);
  EXPECT_EQ(obj["spec"]["mode"], "a");
  EXPECT_FALSE(obj["spec"].contains("ratio"));  // no default

  json kept = job();
  kept["spec"]["gpus"] = 4;
  ASSERT_TRUE(check(kept, opts).ok());
  EXPECT_EQ(kept["spec"]["gpus"], 4);

  // Defaults come before validation: a required field can be satisfied by its default.
  json schema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
      "required":["policy"],"properties":{"policy":{"type":"string","default":"Always"}}}}})");
  json v = json::parse(R"({"spec":{}})");
  EXPECT_EQ(validate(v, schema, nullptr, {}).causes,
            (Causes{{"FieldValueRequired", "spec.policy", "Required value"}}));
  EXPECT_TRUE(validate(v, schema, nullptr, opts).ok());
  EXPECT_EQ(v["spec"]["policy"], "Always");
}

TEST(SchemaCrd, PruningAndStrictUnknownFields) {
  json obj = job();
  obj["bogus"] = 1;
  obj["spec"]["foo"] = {{"bar", 1}};
  obj["spec"]["env"] = json::parse(R"([{"name":"A","extra":true}])");

  json reported = obj;
  Options strict;
  strict.report_unknown = true;
  EXPECT_EQ(
      check(reported, strict).causes,
      (Causes{{"FieldValueUnknown", "bogus", "unknown field \"bogus\""},
              {"FieldValueUnknown", "spec.foo", "unknown field \"spec.foo\""},
              {"FieldValueUnknown", "spec.env[0].extra", "unknown field \"spec.env[0].extra\""}}));
  EXPECT_EQ(reported, obj);  // reported, not removed

  Options prune;
  prune.prune_unknown = true;
  Result r = check(obj, prune);
  EXPECT_TRUE(r.ok()) << r.to_string();
  EXPECT_FALSE(obj.contains("bogus"));
  EXPECT_FALSE(obj["spec"].contains("foo"));
  EXPECT_EQ(obj["spec"]["env"], json::parse(R"([{"name":"A"}])"));
  // metadata is the server's business: never pruned, even where the schema says nothing of it.
  EXPECT_EQ(obj["metadata"]["labels"]["team"], "a");
}

TEST(SchemaCrd, RootKeepsTypeMetaAndMetadataWithoutSchema) {
  json schema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"string"}}}}})");
  json obj = job();
  obj["spec"] = {{"a", "x"}, {"b", "y"}};
  Options opts;
  opts.prune_unknown = true;
  opts.report_unknown = true;
  EXPECT_EQ(validate(obj, schema, nullptr, opts).causes,
            (Causes{{"FieldValueUnknown", "spec.b", "unknown field \"spec.b\""}}));
  EXPECT_EQ(obj["apiVersion"], "remotecode.dev/v1alpha1");
  EXPECT_EQ(obj["kind"], "TrainingJob");
  EXPECT_EQ(obj["metadata"]["namespace"], "ml");
  EXPECT_EQ(obj["spec"], json({{"a", "x"}}));
}

TEST(SchemaCrd, RootMetadataOnlyNameIsConstrained) {
  json schema = json::parse(R"({"type":"object","properties":{"metadata":{"type":"object",
      "properties":{"name":{"type":"string","maxLength":5}}}}})");
  json obj = job();
  obj.erase("spec");
  obj["metadata"]["name"] = "much-too-long";
  Options opts;
  opts.prune_unknown = true;
  opts.report_unknown = true;
  EXPECT_EQ(
      validate(obj, schema, nullptr, opts).causes,
      (Causes{{"FieldValueTooLong", "metadata.name", "Too long: may not be more than 5 bytes"}}));
  EXPECT_EQ(obj["metadata"]["labels"]["team"], "a");
}

TEST(SchemaCrd, PreserveUnknownFieldsAndEmbeddedResources) {
  json obj = job();
  obj["spec"]["extra"] = json::parse(R"({"free": {"form": [1, {"x": null}]}})");
  obj["spec"]["template"] = json::parse(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"x": "ok", "y": "gone"}})");
  Options opts;
  opts.prune_unknown = true;
  opts.report_unknown = true;
  EXPECT_EQ(check(obj, opts).causes, (Causes{{"FieldValueUnknown", "spec.template.spec.y",
                                              "unknown field \"spec.template.spec.y\""}}));
  EXPECT_EQ(obj["spec"]["extra"], json::parse(R"({"free": {"form": [1, {"x": null}]}})"));
  EXPECT_EQ(obj["spec"]["template"], json::parse(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"x": "ok"}})"));

  // An embedded resource needs its TypeMeta (objectmeta.Validate).
  EXPECT_EQ(
      with_spec("template", json::parse(R"({"kind": "Bad_Kind", "spec": {}})")),
      (Causes{{"FieldValueRequired", "spec.template.apiVersion", "Required value"},
              {"FieldValueInvalid", "spec.template.kind",
               "Invalid value: \"Bad_Kind\": may have mixed case, but should otherwise match: "
               "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
               "start with an alphabetic character, and end with an alphanumeric character "
               "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')"}}));
}

TEST(SchemaCrd, CompositeKeywords) {
  json schema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
      "properties":{
        "n": {"type":"string", "not": {"enum": ["x"]}},
        "one": {"type":"object", "oneOf": [{"required":["a"]},{"required":["b"]}]},
        "all": {"type":"integer", "allOf": [{"minimum": 1}, {"maximum": 3}]}}}}})");
  auto run = [&](const json& spec) {
    json v = {{"spec", spec}};
    return validate(v, schema, nullptr, {}).causes;
  };
  EXPECT_EQ(run({{"n", "x"}}),
            (Causes{{"FieldValueInvalid", "",
                     "Invalid value: \"\": \"spec.n\" must not validate the schema (not)"}}));
  EXPECT_TRUE(run({{"n", "y"}}).empty());
  EXPECT_EQ(run({{"one", {{"a", 1}, {"b", 2}}}}),
            (Causes{{"FieldValueInvalid", "",
                     "Invalid value: \"\": \"spec.one\" must validate one and only one schema "
                     "(oneOf). Found 2 valid alternatives"}}));
  EXPECT_EQ(run({{"one", json::object()}}),
            (Causes{{"FieldValueInvalid", "",
                     "Invalid value: \"\": \"spec.one\" must validate one and only one schema "
                     "(oneOf). Found none valid"},
                    {"FieldValueRequired", "spec.one.a", "Required value"}}));
  EXPECT_EQ(run({{"all", 5}}),
            (Causes{{"FieldValueInvalid", "spec.all",
                     "Invalid value: 5: spec.all in body should be less than or equal to 3"},
                    {"FieldValueInvalid", "",
                     "Invalid value: \"\": \"spec.all\" must validate all the schemas (allOf)"}}));
  EXPECT_TRUE(run({{"all", 2}}).empty());
}

TEST(SchemaCrd, PathPrefix) {
  json schema = json::parse(R"({"type":"object","properties":{"gpus":{"type":"integer"}}})");
  json v = {{"gpus", "x"}};
  EXPECT_EQ(validate(v, schema, nullptr, {}, "spec").causes,
            (Causes{{"FieldValueTypeInvalid", "spec.gpus",
                     "Invalid value: \"string\": spec.gpus in body must be of type integer: "
                     "\"string\""}}));
}

// ---- the real Kubernetes 1.32 OpenAPI v3 documents ----

json deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "ws-alice", "namespace": "remote-code", "creationTimestamp": null,
                 "labels": {"app.kubernetes.io/name": "workspace"},
                 "annotations": {"remotecode.dev/owner": "alice"},
                 "ownerReferences": [{"apiVersion": "remotecode.dev/v1alpha1", "kind": "Workspace",
                                      "name": "alice", "uid": "4f1c", "controller": true,
                                      "blockOwnerDeletion": true}]},
    "spec": {
      "replicas": 1,
      "selector": {"matchLabels": {"app.kubernetes.io/name": "workspace"}},
      "strategy": {"type": "RollingUpdate",
                   "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
      "template": {
        "metadata": {"labels": {"app.kubernetes.io/name": "workspace"}},
        "spec": {
          "securityContext": {"runAsNonRoot": true, "fsGroup": 1000},
          "containers": [{
            "name": "code-server",
            "image": "codercom/code-server:4.96.2",
            "args": ["--bind-addr", "0.0.0.0:8080"],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "p"}}}],
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                          "limits": {"cpu": 2, "memory": "4Gi", "nvidia.com/gpu": 1}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                               "periodSeconds": 10},
            "livenessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5},
            "volumeMounts": [{"name": "home", "mountPath": "/home/coder"}]
          }],
          "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "ws-alice"}}]
        }
      }
    }
  })");
}

Result strict(const json& obj) {
  return validate_object_strict(obj, kOpenApiDir);
}

TEST(SchemaOpenApi, ValidBuiltInObjectsPass) {
  const json objects[] = {
      deployment(),
      json::parse(R"({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"restartPolicy": "Never", "nodeSelector": {"gpu": "a100"},
                 "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                  "effect": "NoSchedule"}],
                 "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "true"],
                                 "resources": {"limits": {"cpu": 0.5, "memory": "128Mi"}}}]}})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "ws-alice", "namespace": "n"},
        "spec": {"type": "ClusterIP", "selector": {"app": "ws"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                           {"name": "ssh", "port": 22, "targetPort": 2222}]}})"),
      json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "ws-alice", "namespace": "n"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                 "resources": {"requests": {"storage": "10Gi"}}}})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"}, "type": "Opaque",
        "data": {"password": "aHVudGVyMg=="}, "stringData": {"user": "alice"}})"),
      json::parse(R"({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "train-1", "namespace": "n"},
        "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 600, "completions": 1,
                 "template": {"spec": {"restartPolicy": "Never",
                   "containers": [{"name": "train", "image": "pytorch:2.4",
                                   "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}}}})"),
      json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "portal", "namespace": "n",
                     "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "0"}},
        "spec": {"ingressClassName": "nginx",
                 "tls": [{"hosts": ["code.example.com"], "secretName": "tls"}],
                 "rules": [{"host": "code.example.com", "http": {"paths": [
                   {"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "portal", "port": {"number": 80}}}},
                   {"path": "/ws", "pathType": "Prefix",
                    "backend": {"service": {"name": "ws", "port": {"name": "http"}}}}]}}]}})"),
      json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "ws-alice", "namespace": "n"},
        "spec": {"podSelector": {"matchLabels": {"app": "ws"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "portal"}}},
                                       {"namespaceSelector": {"matchExpressions": [
                                         {"key": "team", "operator": "In", "values": ["a"]}]}}],
                              "ports": [{"protocol": "TCP", "port": 8080},
                                        {"port": "http"}]}]}})"),
  };
  for (const auto& obj : objects) {
    Result r = strict(obj);
    EXPECT_TRUE(r.ok()) << obj["kind"] << ":\n" << r.to_string();
  }
}

TEST(SchemaOpenApi, FreeFormObjectsAndStatus) {
  // FieldsV1 and RawExtension are `{"type":"object"}` alone: anything goes inside them.
  json d = deployment();
  d["metadata"]["managedFields"] = json::parse(R"([{"manager": "remote-code",
      "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
      "fieldsV1": {"f:spec": {"f:replicas": {}, "k:{\"name\":\"x\"}": {".": {}}}}}])");
  d["status"] = json::parse(R"({"replicas": 1, "readyReplicas": 1, "observedGeneration": 2,
      "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                      "lastTransitionTime": "2024-11-23T18:00:00Z"}]})");
  d["spec"]["template"]["spec"]["volumes"].push_back(
      {{"name", "tmp"}, {"emptyDir", json::object()}});
  Result r = strict(d);
  EXPECT_TRUE(r.ok()) << r.to_string();
  d["status"]["conditions"][0]["bogus"] = 1;
  EXPECT_EQ(strict(d).causes, (Causes{{"FieldValueUnknown", "status.conditions[0].bogus",
                                       "unknown field \"status.conditions[0].bogus\""}}));
}

TEST(SchemaOpenApi, UnknownFieldNamesItsPath) {
  json d = deployment();
  d["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo";
  EXPECT_EQ(strict(d).causes,
            (Causes{{"FieldValueUnknown", "spec.template.spec.containers[0].imagee",
                     "unknown field \"spec.template.spec.containers[0].imagee\""}}));
  json top = deployment();
  top["spec"]["replica"] = 1;
  top["metadata"]["label"] = {{"a", "b"}};
  EXPECT_EQ(strict(top).causes,
            (Causes{{"FieldValueUnknown", "metadata.label", "unknown field \"metadata.label\""},
                    {"FieldValueUnknown", "spec.replica", "unknown field \"spec.replica\""}}));
}

TEST(SchemaOpenApi, WrongTypes) {
  json d = deployment();
  d["spec"]["replicas"] = "3";
  d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080";
  d["metadata"]["labels"]["tier"] = 1;
  d["spec"]["template"]["spec"]["containers"][0]["args"] = "--bind-addr";
  EXPECT_EQ(
      strict(d).causes,
      (Causes{{"FieldValueTypeInvalid", "metadata.labels.tier",
               "Invalid value: \"integer\": metadata.labels.tier in body must be of type "
               "string: \"integer\""},
              {"FieldValueTypeInvalid", "spec.replicas",
               "Invalid value: \"string\": spec.replicas in body must be of type integer: "
               "\"string\""},
              {"FieldValueTypeInvalid", "spec.template.spec.containers[0].args",
               "Invalid value: \"string\": spec.template.spec.containers[0].args in body "
               "must be of type array: \"string\""},
              {"FieldValueTypeInvalid", "spec.template.spec.containers[0].ports[0].containerPort",
               "Invalid value: \"string\": "
               "spec.template.spec.containers[0].ports[0].containerPort in body must be of "
               "type integer: \"string\""}}));
}

TEST(SchemaOpenApi, IntOrStringQuantityAndInt32) {
  json d = deployment();
  d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = true;
  EXPECT_EQ(strict(d).causes,
            (Causes{{"FieldValueTypeInvalid", "spec.strategy.rollingUpdate.maxSurge",
                     "Invalid value: \"boolean\": spec.strategy.rollingUpdate.maxSurge in body "
                     "must be of type integer,string: \"boolean\""}}));

  json q = deployment();
  q["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "4GB";
  EXPECT_EQ(
      strict(q).causes,
      (Causes{{"FieldValueInvalid", "spec.template.spec.containers[0].resources.limits.memory",
               "Invalid value: \"4GB\": quantities must match the regular expression "
               "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"}}));

  json big = deployment();
  big["spec"]["replicas"] = 3000000000LL;
  EXPECT_EQ(strict(big).causes,
            (Causes{{"FieldValueInvalid", "spec.replicas",
                     "Invalid value: \"\": Checked value must be of type integer with format int32 "
                     "in spec.replicas"}}));
}

TEST(SchemaOpenApi, RequiredDuplicatesAndFormats) {
  json d = deployment();
  auto& containers = d["spec"]["template"]["spec"]["containers"];
  containers.push_back(containers[0]);
  containers.push_back({{"image", "sidecar"}});
  EXPECT_EQ(
      strict(d).causes,
      (Causes{{"FieldValueRequired", "spec.template.spec.containers[2].name", "Required value"},
              {"FieldValueDuplicate", "spec.template.spec.containers[1]",
               "Duplicate value: map[string]interface {}{\"name\":\"code-server\"}"}}));

  json no_template = deployment();
  no_template["spec"].erase("template");
  EXPECT_EQ(strict(no_template).causes,
            (Causes{{"FieldValueRequired", "spec.template", "Required value"}}));

  json secret = json::parse(R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
      "data": {"password": "hunter2!"}})");
  EXPECT_EQ(strict(secret).causes,
            (Causes{{"FieldValueTypeInvalid", "data.password",
                     "Invalid value: \"hunter2!\": data.password in body must be of type byte: "
                     "\"hunter2!\""}}));

  json stamped = deployment();
  stamped["metadata"]["creationTimestamp"] = "2024-11-23T18:00:00Z";
  EXPECT_TRUE(strict(stamped).ok());
  stamped["metadata"]["creationTimestamp"] = "Nov 23";
  EXPECT_EQ(strict(stamped).causes.size(), 1u);
}

TEST(SchemaOpenApi, UnknownKindOrVersion) {
  json d = deployment();
  d["kind"] = "Deploymnet";
  EXPECT_EQ(strict(d).causes,
            (Causes{{"FieldValueNotSupported", "kind",
                     "no matches for kind \"Deploymnet\" in version \"apps/v1\""}}));
  d = deployment();
  d["apiVersion"] = "apps.example.com/v1";
  EXPECT_EQ(strict(d).causes,
            (Causes{{"FieldValueNotSupported", "apiVersion",
                     "no matches for kind \"Deployment\" in version \"apps.example.com/v1\""}}));
  d.erase("apiVersion");
  EXPECT_EQ(strict(d).causes, (Causes{{"FieldValueRequired", "apiVersion", "Required value"}}));
}

TEST(SchemaOpenApi, Document) {
  EXPECT_EQ(openapi_file_for("v1"), "api__v1_openapi.json");
  EXPECT_EQ(openapi_file_for("networking.k8s.io/v1"), "apis__networking.k8s.io__v1_openapi.json");

  try {
    Document::load_file(kOpenApiDir + "/nope.json");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.json"), std::string::npos) << e.what();
  }

  Document apps = Document::load_file(kOpenApiDir + "/apis__apps__v1_openapi.json");
  Document batch = Document::load_file(kOpenApiDir + "/apis__batch__v1_openapi.json");
  const json* dep = apps.schema_for_gvk("apps", "v1", "Deployment");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep, apps.schema("io.k8s.api.apps.v1.Deployment"));
  EXPECT_EQ(apps.schema_for_gvk("batch", "v1", "Job"), nullptr);
  EXPECT_EQ(apps.resolve("#/components/schemas/io.k8s.api.apps.v1.Deployment"), dep);

  size_t before = apps.size();
  apps.merge(batch);
  EXPECT_GT(apps.size(), before);
  EXPECT_NE(apps.schema_for_gvk("batch", "v1", "Job"), nullptr);
  EXPECT_EQ(apps.schema_for_gvk("apps", "v1", "Deployment"), dep);  // ours kept

  // Validating against a merged document with explicit options.
  json job = json::parse(R"({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
      "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "bogus": 1}]}}}})");
  Options opts;
  opts.dialect = Dialect::kOpenApi;
  opts.report_unknown = true;
  opts.prune_unknown = true;
  Result r = validate(job, *apps.schema_for_gvk("batch", "v1", "Job"), &apps, opts);
  EXPECT_EQ(r.causes, (Causes{{"FieldValueUnknown", "spec.template.spec.containers[0].bogus",
                               "unknown field \"spec.template.spec.containers[0].bogus\""}}));
  EXPECT_FALSE(job["spec"]["template"]["spec"]["containers"][0].contains("bogus"));

  // A dangling $ref is reported, not followed.
  json dangling = {{"$ref", "#/components/schemas/nope"}};
  json v = 1;
  EXPECT_EQ(validate(v, dangling, &apps, opts).causes,
            (Causes{{"InternalError", "",
                     "Internal error: unresolvable $ref \"#/components/schemas/nope\""}}));
}

TEST(SchemaOpenApi, FastEnoughForThousandsOfObjects) {
  const json d = deployment();
  ASSERT_TRUE(strict(d).ok());  // documents loaded and cached
  constexpr int kRuns = 1000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(strict(d).ok());
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::printf("strict Deployment validation: %.1f us/object\n", static_cast<double>(us) / kRuns);
  EXPECT_LT(us, 20'000'000);  // generous: sanitizer builds and a busy 2-core machine
}

}  // namespace
}  // namespace rc::schema

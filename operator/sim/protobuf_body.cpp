#include "remotecode/sim/protobuf_body.h"

#include <cstdint>
#include <functional>

#include "remotecode/sim/errors.h"
#include "remotecode/util/encoding.h"

namespace rc::sim {

using nlohmann::json;

namespace {

// Field numbers from k8s.io/api and k8s.io/apimachinery generated.proto.
struct Reader {
  std::string data;  // owned: readers of nested messages outlive the temporaries they came from
  size_t pos;
  size_t end;

  bool done() const { return pos >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) throw bad_request("protobuf body: truncated varint");
      uint8_t b = static_cast<uint8_t>(data[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw bad_request("protobuf body: varint too long");
  }
  std::string bytes() {
    uint64_t n = varint();
    if (n > end - pos) throw bad_request("protobuf body: truncated field");
    std::string out = data.substr(pos, n);
    pos += n;
    return out;
  }
  void skip(int wire) {
    switch (wire) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2:
        bytes();
        break;
      case 5:
        pos += 4;
        break;
      default:
        throw bad_request("protobuf body: unsupported wire type");
    }
    if (pos > end) throw bad_request("protobuf body: truncated field");
  }
  // Calls f(field, wire) for each field; f reads the value or returns false to skip it.
  void each(const std::function<bool(int, int)>& f) {
    while (!done()) {
      uint64_t key = varint();
      int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
      size_t before = pos;
      if (!f(field, wire)) {
        pos = before;
        skip(wire);
      }
    }
  }
};

Reader sub(const std::string& s) {
  return Reader{s, 0, s.size()};
}

std::pair<std::string, std::string> map_entry(const std::string& raw) {
  std::string k, v;
  Reader r = sub(raw);
  r.each([&](int f, int w) {
    if (w != 2) return false;
    if (f == 1)
      k = r.bytes();
    else if (f == 2)
      v = r.bytes();
    else
      return false;
    return true;
  });
  return {k, v};
}

json object_meta(const std::string& raw) {
  json md = json::object();
  Reader r = sub(raw);
  r.each([&](int f, int w) {
    if (w == 2 && f >= 1 && f <= 6) {
      static const char* names[] = {"",         "name", "generateName",   "namespace",
                                    "selfLink", "uid",  "resourceVersion"};
      // Go's JSON omits empty strings; protobuf carries them.
      if (std::string v = r.bytes(); !v.empty()) md[names[f]] = v;
      return true;
    }
    if (w == 2 && (f == 11 || f == 12)) {
      auto [k, v] = map_entry(r.bytes());
      md[f == 11 ? "labels" : "annotations"][k] = v;
      return true;
    }
    if (w == 2 && f == 14) {
      md["finalizers"].push_back(r.bytes());
      return true;
    }
    return false;
  });
  return md;
}

// A table-driven decoder for the workload types kubectl's generators send (`kubectl create
// deployment`, `kubectl create job`). Go's protobuf marshaller writes every non-pointer field,
// zero or not, while its JSON omits empty ones: zero values of non-pointer fields are dropped.
// A field the tables do not know is refused (415) unless it is zero, so nothing a user sent is
// silently lost.
enum class Type { String, Int, Bool, Meta, Message, StringMap, QuantityMap, Strings, Messages };

struct Message;
struct Field {
  int number;
  const char* name;
  Type type;
  const Message* message = nullptr;  // Message and Messages
  bool pointer = false;              // a Go pointer: a zero value was set on purpose
};
struct Message {
  const char* name;
  std::vector<Field> fields;
};

// True when `raw` reads as a message all of whose fields are zero (Go zero values).
bool all_zero(const std::string& raw, int depth) {
  if (raw.empty()) return true;
  if (depth > 8) return false;
  Reader r = sub(raw);
  bool zero = true;
  try {
    r.each([&](int, int w) {
      if (w == 0)
        zero = zero && r.varint() == 0;
      else if (w == 2)
        zero = zero && all_zero(r.bytes(), depth + 1);
      else
        zero = false;
      return zero;
    });
  } catch (const StatusError&) {
    return false;
  }
  return zero;
}

json decode_message(const std::string& raw, const Message& m, int depth = 0);

json decode_field(Reader& r, int wire, const Field& f, int depth) {
  auto expect = [&](int want) {
    if (wire != want)
      throw StatusError(400, "BadRequest",
                        std::string("protobuf body: wrong wire type for ") + f.name);
  };
  switch (f.type) {
    case Type::String:
    case Type::Strings:
      expect(2);
      return r.bytes();
    case Type::Int:
      expect(0);
      return static_cast<int64_t>(r.varint());
    case Type::Bool:
      expect(0);
      return r.varint() != 0;
    case Type::Meta:
      expect(2);
      return object_meta(r.bytes());
    case Type::Message:
    case Type::Messages:
      expect(2);
      return decode_message(r.bytes(), *f.message, depth + 1);
    case Type::StringMap:
    case Type::QuantityMap: {
      expect(2);
      auto [k, v] = map_entry(r.bytes());
      if (f.type == Type::QuantityMap) {  // Quantity { string string = 1; }
        std::string q;
        Reader qr = sub(v);
        qr.each([&](int qf, int qw) {
          if (qf != 1 || qw != 2) return false;
          q = qr.bytes();
          return true;
        });
        v = q;
      }
      return json::object({{k, v}});
    }
  }
  return nullptr;
}

json decode_message(const std::string& raw, const Message& m, int depth) {
  if (depth > 16) throw bad_request("protobuf body: nested too deeply");
  json out = json::object();
  Reader r = sub(raw);
  r.each([&](int number, int wire) {
    const Field* f = nullptr;
    for (const auto& candidate : m.fields)
      if (candidate.number == number) f = &candidate;
    if (!f) {
      size_t before = r.pos;
      r.skip(wire);
      std::string value = r.data.substr(before, r.pos - before);
      bool zero = wire == 0 ? value.find_first_not_of('\0') == std::string::npos
                            : wire == 2 && all_zero(sub(value).bytes(), 0);
      if (!zero)
        throw StatusError(415, "UnsupportedMediaType",
                          "remote-code sim cannot decode field " + std::to_string(number) + " of " +
                              m.name +
                              " in a protobuf body; use kubectl create -f or kubectl apply -f "
                              "with YAML, which send JSON");
      return true;
    }
    json v = decode_field(r, wire, *f, depth);
    if (f->type == Type::StringMap || f->type == Type::QuantityMap) {
      out[f->name].update(v);
    } else if (f->type == Type::Strings || f->type == Type::Messages) {
      out[f->name].push_back(v);
    } else if (f->pointer || !(v == "" || v == 0 || v == false || v == json::object())) {
      out[f->name] = v;
    }
    return true;
  });
  return out;
}

const Message& workload(const std::string& kind) {
  static const Message kSelectorRequirement{
      "LabelSelectorRequirement",
      {{1, "key", Type::String}, {2, "operator", Type::String}, {3, "values", Type::Strings}}};
  static const Message kSelector{"LabelSelector",
                                 {{1, "matchLabels", Type::StringMap},
                                  {2, "matchExpressions", Type::Messages, &kSelectorRequirement}}};
  static const Message kPort{"ContainerPort",
                             {{1, "name", Type::String},
                              {2, "hostPort", Type::Int},
                              {3, "containerPort", Type::Int},
                              {4, "protocol", Type::String},
                              {5, "hostIP", Type::String}}};
  static const Message kEnv{"EnvVar", {{1, "name", Type::String}, {2, "value", Type::String}}};
  static const Message kResources{
      "ResourceRequirements",
      {{1, "limits", Type::QuantityMap}, {2, "requests", Type::QuantityMap}}};
  static const Message kContainer{"Container",
                                  {{1, "name", Type::String},
                                   {2, "image", Type::String},
                                   {3, "command", Type::Strings},
                                   {4, "args", Type::Strings},
                                   {5, "workingDir", Type::String},
                                   {6, "ports", Type::Messages, &kPort},
                                   {7, "env", Type::Messages, &kEnv},
                                   {8, "resources", Type::Message, &kResources},
                                   {13, "terminationMessagePath", Type::String},
                                   {14, "imagePullPolicy", Type::String},
                                   {16, "stdin", Type::Bool},
                                   {17, "stdinOnce", Type::Bool},
                                   {18, "tty", Type::Bool},
                                   {20, "terminationMessagePolicy", Type::String}}};
  static const Message kPodSpec{"PodSpec",
                                {{2, "containers", Type::Messages, &kContainer},
                                 {3, "restartPolicy", Type::String},
                                 {4, "terminationGracePeriodSeconds", Type::Int, nullptr, true},
                                 {5, "activeDeadlineSeconds", Type::Int, nullptr, true},
                                 {6, "dnsPolicy", Type::String},
                                 {7, "nodeSelector", Type::StringMap},
                                 {8, "serviceAccountName", Type::String},
                                 {10, "nodeName", Type::String},
                                 {11, "hostNetwork", Type::Bool},
                                 {12, "hostPID", Type::Bool},
                                 {13, "hostIPC", Type::Bool},
                                 {16, "hostname", Type::String},
                                 {17, "subdomain", Type::String},
                                 {19, "schedulerName", Type::String},
                                 {20, "initContainers", Type::Messages, &kContainer},
                                 {21, "automountServiceAccountToken", Type::Bool, nullptr, true}}};
  static const Message kPodTemplate{
      "PodTemplateSpec", {{1, "metadata", Type::Meta}, {2, "spec", Type::Message, &kPodSpec}}};
  static const Message kStrategy{"DeploymentStrategy", {{1, "type", Type::String}}};
  static const Message kDeploymentSpec{"DeploymentSpec",
                                       {{1, "replicas", Type::Int, nullptr, true},
                                        {2, "selector", Type::Message, &kSelector},
                                        {3, "template", Type::Message, &kPodTemplate},
                                        {4, "strategy", Type::Message, &kStrategy},
                                        {5, "minReadySeconds", Type::Int},
                                        {6, "revisionHistoryLimit", Type::Int, nullptr, true},
                                        {7, "paused", Type::Bool},
                                        {9, "progressDeadlineSeconds", Type::Int, nullptr, true}}};
  static const Message kJobSpec{"JobSpec",
                                {{1, "parallelism", Type::Int, nullptr, true},
                                 {2, "completions", Type::Int, nullptr, true},
                                 {3, "activeDeadlineSeconds", Type::Int, nullptr, true},
                                 {4, "selector", Type::Message, &kSelector},
                                 {5, "manualSelector", Type::Bool, nullptr, true},
                                 {6, "template", Type::Message, &kPodTemplate},
                                 {7, "backoffLimit", Type::Int, nullptr, true},
                                 {8, "ttlSecondsAfterFinished", Type::Int, nullptr, true},
                                 {9, "completionMode", Type::String},
                                 {10, "suspend", Type::Bool, nullptr, true}}};
  return kind == "Deployment" ? kDeploymentSpec : kJobSpec;
}

// metadata=1 and spec=2 of a Deployment or Job. Status (3) is refused unless empty, as kubectl's
// generators send it.
json decode_workload(const std::string& kind, const std::string& raw) {
  static const Message kDeployment{
      "Deployment",
      {{1, "metadata", Type::Meta}, {2, "spec", Type::Message, &workload("Deployment")}}};
  static const Message kJob{
      "Job", {{1, "metadata", Type::Meta}, {2, "spec", Type::Message, &workload("Job")}}};
  return decode_message(raw, kind == "Deployment" ? kDeployment : kJob);
}

json decode_object(const std::string& api_version, const std::string& kind,
                   const std::string& raw) {
  json obj = {{"apiVersion", api_version}, {"kind", kind}};
  Reader r = sub(raw);
  if ((api_version == "apps/v1" && kind == "Deployment") ||
      (api_version == "batch/v1" && kind == "Job")) {
    obj.update(decode_workload(kind, raw));
    if (!obj.contains("metadata")) obj["metadata"] = json::object();
    return obj;
  }
  if (api_version != "v1") throw StatusError(415, "UnsupportedMediaType", "");
  if (kind == "Namespace") {
    r.each([&](int f, int w) {
      if (f == 1 && w == 2)
        obj["metadata"] = object_meta(r.bytes());
      else if (f == 2 && w == 2) {
        Reader s = sub(r.bytes());
        json spec = json::object();
        s.each([&](int sf, int sw) {
          if (sf != 1 || sw != 2) return false;
          spec["finalizers"].push_back(s.bytes());
          return true;
        });
        obj["spec"] = spec;
      } else
        return false;
      return true;
    });
  } else if (kind == "ConfigMap" || kind == "Secret") {
    bool secret = kind == "Secret";
    r.each([&](int f, int w) {
      if (f == 1 && w == 2)
        obj["metadata"] = object_meta(r.bytes());
      else if ((f == 2 || f == 3) && w == 2 && !secret) {
        auto [k, v] = map_entry(r.bytes());
        if (f == 2)
          obj["data"][k] = v;
        else
          obj["binaryData"][k] = util::base64_encode(v);
      } else if (f == 2 && w == 2 && secret) {
        auto [k, v] = map_entry(r.bytes());
        obj["data"][k] = util::base64_encode(v);
      } else if (f == 3 && w == 2 && secret) {
        if (std::string t = r.bytes(); !t.empty()) obj["type"] = t;
      } else if (f == 4 && w == 2 && secret) {
        auto [k, v] = map_entry(r.bytes());
        obj["stringData"][k] = v;
      } else if (((f == 4 && !secret) || (f == 5 && secret)) && w == 0) {
        obj["immutable"] = r.varint() != 0;
      } else
        return false;
      return true;
    });
  } else if (kind == "ServiceAccount") {
    r.each([&](int f, int w) {
      if (f == 1 && w == 2)
        obj["metadata"] = object_meta(r.bytes());
      else if (f == 4 && w == 0)
        obj["automountServiceAccountToken"] = r.varint() != 0;
      else
        return false;
      return true;
    });
  } else {
    throw StatusError(415, "UnsupportedMediaType", "");
  }
  if (!obj.contains("metadata")) obj["metadata"] = json::object();
  return obj;
}

}  // namespace

bool is_protobuf_body(const std::string& body) {
  return body.size() >= 4 && body.compare(0, 4, std::string("k8s\0", 4)) == 0;
}

json decode_protobuf_body(const std::string& body) {
  if (!is_protobuf_body(body)) throw bad_request("protobuf body: missing the k8s envelope");
  // runtime.Unknown: typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4
  std::string api_version, kind, raw;
  Reader r{body, 4, body.size()};
  r.each([&](int f, int w) {
    if (w != 2) return false;
    if (f == 1) {
      Reader t = sub(r.bytes());
      t.each([&](int tf, int tw) {
        if (tw != 2) return false;
        if (tf == 1)
          api_version = t.bytes();
        else if (tf == 2)
          kind = t.bytes();
        else
          return false;
        return true;
      });
    } else if (f == 2) {
      raw = r.bytes();
    } else {
      return false;
    }
    return true;
  });
  try {
    return decode_object(api_version, kind, raw);
  } catch (const StatusError& e) {
    if (e.code() != 415 || !std::string(e.what()).empty()) throw;
    throw StatusError(415, "UnsupportedMediaType",
                      "remote-code sim decodes protobuf bodies only for v1 Namespace, ConfigMap, "
                      "Secret and ServiceAccount, apps/v1 Deployment and batch/v1 Job, not " +
                          (api_version.empty() ? "this body" : api_version + " " + kind) +
                          "; use kubectl create -f or kubectl apply -f with YAML, which send JSON");
  }
}

}  // namespace rc::sim

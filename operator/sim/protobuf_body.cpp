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

json decode_object(const std::string& api_version, const std::string& kind,
                   const std::string& raw) {
  json obj = {{"apiVersion", api_version}, {"kind", kind}};
  Reader r = sub(raw);
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
    if (e.code() != 415) throw;
    throw StatusError(415, "UnsupportedMediaType",
                      "remote-code sim decodes protobuf bodies only for v1 Namespace, ConfigMap, "
                      "Secret and ServiceAccount, not " +
                          (api_version.empty() ? "this body" : api_version + " " + kind) +
                          "; use kubectl create -f or kubectl apply -f with YAML, which send JSON");
  }
}

}  // namespace rc::sim

// The schema walker: one pass per value that prunes, defaults and validates, in the order
// kube-apiserver does for a custom resource (apiextensions-apiserver's pruning,
// PruneNonNullableNullsWithoutDefaults, defaulting, then kube-openapi validation and the
// list-type checks), with kube-openapi's messages converted the way apiextensions converts them.
#include "remotecode/schema/validator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <ostream>
#include <unordered_map>

#include "go_format.h"

namespace rc::schema {

using detail::go_float;
using detail::go_quote;
using detail::go_value;
using nlohmann::json;

namespace {

constexpr int kMaxParts = 8;
constexpr int kMaxRefDepth = 32;

// The schema nodes that apply to one value: the node itself plus what its $ref (and, for
// built-in documents, its allOf wrappers) point to. Pointers into the documents, never copies.
struct Parts {
  std::array<const json*, kMaxParts> p{};
  int n = 0;
  bool quantity = false;  // reached through a $ref to resource.Quantity

  void add(const json* s) {
    for (int i = 0; i < n; ++i)
      if (p[i] == s) return;
    if (n < kMaxParts) p[n++] = s;
  }
  const json* const* begin() const { return p.data(); }
  const json* const* end() const { return p.data() + n; }
  bool empty() const { return n == 0; }
};

enum class Kind { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

Kind kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return Kind::kBool;
    case json::value_t::number_integer:
      return Kind::kInt;
    // Like Kubernetes' JSON decoding: an integer beyond int64 becomes a float64.
    case json::value_t::number_unsigned:
      return v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? Kind::kFloat
                 : Kind::kInt;
    case json::value_t::number_float:
      return Kind::kFloat;
    case json::value_t::string:
      return Kind::kString;
    case json::value_t::array:
      return Kind::kArray;
    case json::value_t::object:
      return Kind::kObject;
    default:
      return Kind::kNull;
  }
}

// JSON type and go-openapi format that kube-openapi infers from a decoded value.
std::string_view schema_type(Kind k) {
  switch (k) {
    case Kind::kBool:
      return "boolean";
    case Kind::kInt:
      return "integer";
    case Kind::kFloat:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
    default:
      return "null";
  }
}
std::string_view data_format(Kind k) {
  return k == Kind::kInt ? "int64" : k == Kind::kFloat ? "float64" : "";
}

double as_double(const json& v) {
  return v.get<double>();
}
int64_t as_int(const json& v) {
  return v.get<int64_t>();
}

// A schema limit as an int64, saturating (a cast of an out-of-range double is undefined).
int64_t saturate(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

bool integral(double d) {
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2233720368547758e18;
}

const json* member(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}
bool flag(const json& o, const char* key) {
  const json* v = member(o, key);
  return v && v->is_boolean() && v->get<bool>();
}
std::optional<int64_t> int_member(const json& o, const char* key) {
  const json* v = member(o, key);
  if (!v || !v->is_number()) return std::nullopt;
  return saturate(v->get<double>());
}

bool is_meta_field(const std::string& k) {
  return k == "apiVersion" || k == "kind" || k == "metadata";
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
std::string index_path(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
// kube-openapi names a value "<path> in body" (" in body" at the root).
std::string in_body(const std::string& path) {
  return path + " in body";
}

// Formats apiextensions-apiserver keeps (StripUnsupportedFormatsPostProcess); others are ignored.
bool crd_supported_format(std::string_view f) {
  std::string n;
  for (char c : f)
    if (c != '-') n.push_back(c);
  static const char* const kSupported[] = {
      "bsonobjectid", "uri",    "email",    "hostname",   "ipv4",     "ipv6",
      "cidr",         "mac",    "uuid",     "uuid3",      "uuid4",    "uuid5",
      "isbn",         "isbn10", "isbn13",   "creditcard", "ssn",      "hexcolor",
      "rgbcolor",     "byte",   "password", "date",       "duration", "datetime"};
  for (const char* s : kSupported)
    if (n == s) return true;
  return false;
}

// A oneOf whose branches are bare types (IntOrString, Quantity): a type union.
bool pure_type_union(const json& s) {
  const json* one = member(s, "oneOf");
  if (!one || !one->is_array() || one->empty()) return false;
  for (const auto& b : *one) {
    if (!b.is_object() || !b.contains("type") || !b["type"].is_string()) return false;
    for (const auto& [k, _] : b.items())
      if (k != "type" && k != "format" && k != "description") return false;
  }
  return true;
}

struct TypeSpec {
  std::array<std::string_view, 6> t{};
  int n = 0;
  std::string_view format;

  void add(std::string_view s) {
    if (n < static_cast<int>(t.size())) t[n++] = s;
  }
  bool contains(std::string_view s) const {
    for (int i = 0; i < n; ++i)
      if (t[i] == s) return true;
    return false;
  }
  std::string joined() const {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::string(t[i]);
    return out;
  }
};

// ---- causes, as apiextensions-apiserver converts kube-openapi errors to field errors ----

Cause required_cause(const std::string& f) {
  return {"FieldValueRequired", f, "Required value"};
}
Cause invalid_cause(const std::string& f, const json& bad, const std::string& detail) {
  return {"FieldValueInvalid", f, "Invalid value: " + go_value(bad) + ": " + detail};
}
Cause type_cause(const std::string& f, const json& bad, const std::string& detail) {
  return {"FieldValueTypeInvalid", f, "Invalid value: " + go_value(bad) + ": " + detail};
}
Cause too_long_cause(const std::string& f, int64_t max) {
  return {
      "FieldValueTooLong", f,
      "Too long: may not be more than " + std::to_string(max) + (max == 1 ? " byte" : " bytes")};
}
Cause too_many_cause(const std::string& f, int64_t actual, int64_t max) {
  return {"FieldValueTooMany", f,
          "Too many: " + std::to_string(actual) + ": must have at most " + std::to_string(max) +
              (max == 1 ? " item" : " items")};
}
Cause duplicate_cause(const std::string& f, const json& bad) {
  return {"FieldValueDuplicate", f, "Duplicate value: " + go_value(bad)};
}
Cause not_supported_cause(const std::string& f, const json& bad, const json& allowed) {
  std::string detail;
  for (const auto& a : allowed) {
    if (!detail.empty()) detail += ", ";
    detail += go_quote(a.is_string() ? a.get<std::string>() : detail::go_json(a));
  }
  return {"FieldValueNotSupported", f,
          "Unsupported value: " + go_value(bad) + (detail.empty() ? "" : ": supported values: ") +
              detail};
}

class Walker {
 public:
  Walker(const Document* doc, const Options& opts, bool mutate, bool track_unknown, bool lists)
      : doc_(doc),
        opts_(opts),
        crd_(opts.dialect == Dialect::kCrd),
        prune_(mutate && opts.prune_unknown),
        defaults_(mutate && opts.apply_defaults),
        track_unknown_(track_unknown),
        lists_(lists) {}

  void expand(const json* s, Parts& out, const std::string& path, int depth = 0);
  void walk(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
            bool meta_rules, bool preserve_in);

  // In kube-apiserver's order: pruning's unknown fields, kube-openapi errors, embedded TypeMeta
  // (objectmeta.Validate), list-type duplicates.
  std::vector<Cause> unknown, errors, meta, dups;

 private:
  TypeSpec types_of(const json& s) const;
  bool check_type(const json& v, Kind k, const TypeSpec& ts, const std::string& path);
  void composites(json& v, const json& s, const std::string& path, const std::string& fpath);
  std::vector<Cause> sub_validate(json& v, const json& s, const std::string& path,
                                  const std::string& fpath);
  void values(const json& v, Kind k, const json& s, const std::string& path);
  void numbers(const json& v, Kind k, const json& s, const TypeSpec& ts, const std::string& path);
  void object(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
              bool meta_rules, bool preserve);
  void metadata(json& v, const Parts& parts, const std::string& path);
  void embedded_type_meta(const json& v, const std::string& fpath);
  void array(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
             bool preserve);
  void list_type(const json& v, const Parts& parts, const std::string& fpath);
  void drop_all(json& v, const std::string& path);
  // Cause without a field in kube-apiserver (anyOf/oneOf/allOf/not): keep the path for built-ins.
  Cause composite_cause(const std::string& path, const std::string& detail) const {
    return invalid_cause(crd_ ? "" : path, json(""), detail);
  }

  const Document* doc_;
  const Options& opts_;
  bool crd_;
  bool prune_;
  bool defaults_;
  bool track_unknown_;
  bool lists_;
};

void Walker::expand(const json* s, Parts& out, const std::string& path, int depth) {
  if (!s || !s->is_object() || depth > kMaxRefDepth) return;
  if (const json* ref = member(*s, "$ref"); ref && ref->is_string()) {
    const auto& r = ref->get_ref<const std::string&>();
    const json* target = doc_ ? doc_->resolve(r) : nullptr;
    if (!target) {
      errors.push_back({"InternalError", path, "Internal error: unresolvable $ref " + go_quote(r)});
    } else {
      if (!crd_ && std::string_view(r).ends_with(".pkg.api.resource.Quantity")) out.quantity = true;
      expand(target, out, path, depth + 1);
    }
  }
  out.add(s);
  if (!crd_) {
    if (const json* all = member(*s, "allOf"); all && all->is_array())
      for (const auto& b : *all) expand(&b, out, path, depth + 1);
  }
}

TypeSpec Walker::types_of(const json& s) const {
  TypeSpec ts;
  if (flag(s, "x-kubernetes-int-or-string")) {
    ts.add("integer");
    ts.add("string");
  } else if (const json* t = member(s, "type")) {
    if (t->is_string()) {
      ts.add(t->get_ref<const std::string&>());
    } else if (t->is_array()) {
      for (const auto& x : *t)
        if (x.is_string()) ts.add(x.get_ref<const std::string&>());
    }
  }
  if (const json* f = member(s, "format"); f && f->is_string()) {
    std::string_view fmt = f->get_ref<const std::string&>();
    if (fmt == "int-or-string") {
      if (ts.n == 0) {
        ts.add("integer");
        ts.add("string");
      }
    } else if (!crd_ || crd_supported_format(fmt)) {
      ts.format = fmt;
    }
  }
  if (!crd_ && ts.n == 0 && pure_type_union(s)) {
    for (const auto& b : s["oneOf"]) ts.add(b["type"].get_ref<const std::string&>());
  }
  return ts;
}

// kube-openapi's typeValidator, including its quirk of naming the format when a non-string value
// meets a schema with a format.
bool Walker::check_type(const json& v, Kind k, const TypeSpec& ts, const std::string& path) {
  if (ts.n == 0 && ts.format.empty()) return true;
  std::string_view sch = schema_type(k), fmt = data_format(k);
  bool float_int = k == Kind::kFloat && integral(as_double(v)) && ts.contains("integer");
  bool int_float = k == Kind::kInt && ts.contains("number");
  bool stringish = k == Kind::kString || k == Kind::kArray;
  if (!stringish && !ts.format.empty() &&
      !(ts.contains(sch) || fmt == ts.format || float_int || int_float)) {
    errors.push_back(type_cause(
        path, json(std::string(fmt)),
        in_body(path) + " must be of type " + std::string(ts.format) + ": " + go_quote(fmt)));
    return false;
  }
  if (!(ts.contains("number") || ts.contains("integer")) && !ts.format.empty() && stringish)
    return true;
  if (!(ts.contains(sch) || float_int || int_float)) {
    errors.push_back(
        type_cause(path, json(std::string(sch)),
                   in_body(path) + " must be of type " + ts.joined() + ": " + go_quote(sch)));
    return false;
  }
  return true;
}

std::vector<Cause> Walker::sub_validate(json& v, const json& s, const std::string& path,
                                        const std::string& fpath) {
  Walker sub(doc_, opts_, /*mutate=*/false, /*track_unknown=*/false, /*lists=*/false);
  Parts parts;
  sub.expand(&s, parts, path);
  sub.walk(v, parts, path, fpath, false, false);
  return std::move(sub.errors);
}

// anyOf/oneOf/allOf/not, kept as kube-openapi reports them: the composite message plus the
// errors of the branch that came closest (fewest errors stands in for its match count).
void Walker::composites(json& v, const json& s, const std::string& path, const std::string& fpath) {
  if (const json* any = member(s, "anyOf"); any && any->is_array() && !any->empty()) {
    std::optional<std::vector<Cause>> best;
    bool ok = false;
    for (const auto& b : *any) {
      auto errs = sub_validate(v, b, path, fpath);
      if (errs.empty()) {
        ok = true;
        break;
      }
      if (!best || errs.size() < best->size()) best = std::move(errs);
    }
    if (!ok) {
      errors.push_back(
          composite_cause(path, go_quote(path) + " must validate at least one schema (anyOf)"));
      errors.insert(errors.end(), best->begin(), best->end());
    }
  }
  if (const json* one = member(s, "oneOf");
      one && one->is_array() && !one->empty() && (crd_ || !pure_type_union(s))) {
    std::optional<std::vector<Cause>> best;
    int valid = 0;
    for (const auto& b : *one) {
      auto errs = sub_validate(v, b, path, fpath);
      if (errs.empty()) {
        ++valid;
        continue;
      }
      if (valid == 0 && (!best || errs.size() < best->size())) best = std::move(errs);
    }
    if (valid != 1) {
      std::string more = valid == 0 ? "Found none valid"
                                    : "Found " + std::to_string(valid) + " valid alternatives";
      errors.push_back(composite_cause(
          path, go_quote(path) + " must validate one and only one schema (oneOf). " + more));
      if (valid == 0 && best) errors.insert(errors.end(), best->begin(), best->end());
    }
  }
  if (const json* all = member(s, "allOf"); crd_ && all && all->is_array() && !all->empty()) {
    size_t valid = 0;
    for (const auto& b : *all) {
      auto errs = sub_validate(v, b, path, fpath);
      if (errs.empty()) ++valid;
      errors.insert(errors.end(), errs.begin(), errs.end());
    }
    if (valid != all->size())
      errors.push_back(composite_cause(path, go_quote(path) +
                                                 " must validate all the schemas (allOf)" +
                                                 (valid == 0 ? ". None validated" : "")));
  }
  if (const json* no = member(s, "not"); no && no->is_object()) {
    if (sub_validate(v, *no, path, fpath).empty())
      errors.push_back(
          composite_cause(path, go_quote(path) + " must not validate the schema (not)"));
  }
}

void Walker::numbers(const json& v, Kind k, const json& s, const TypeSpec& ts,
                     const std::string& path) {
  // Built-in fields decode into Go int32/int64: out-of-range values cannot be stored.
  if (!crd_ && ts.n > 0 && ts.t[0] == "integer" && !ts.format.empty()) {
    bool fits = true;
    if (k == Kind::kFloat && !integral(as_double(v))) {
      fits = true;  // already a type error
    } else if (ts.format == "int32") {
      double d = as_double(v);
      fits = d >= std::numeric_limits<int32_t>::min() && d <= std::numeric_limits<int32_t>::max();
    } else if (k == Kind::kFloat) {
      fits = std::fabs(as_double(v)) < 9.2233720368547758e18;
    }
    if (!fits)
      errors.push_back(composite_cause(path, "Checked value must be of type integer with format " +
                                                 std::string(ts.format) + " in " + path));
  }
  const bool is_int = k == Kind::kInt;
  // A CRD cannot declare a multipleOf that is not positive; such a schema constrains nothing here.
  if (const json* m = member(s, "multipleOf"); m && m->is_number() && m->get<double>() > 0) {
    double f = m->get<double>();
    bool bad;
    std::string shown;
    if (is_int && integral(f)) {
      bad = as_int(v) % saturate(f) != 0;
      shown = std::to_string(saturate(f));
    } else {
      double mult = f < 1 ? 1 / f * as_double(v) : as_double(v) / f;
      bad = !integral(mult);
      shown = go_float(f);
    }
    if (bad)
      errors.push_back(invalid_cause(path, v, in_body(path) + " should be a multiple of " + shown));
  }
  // Limits: integers compare against the limit truncated to int64 (MinimumNativeType), floats as
  // floats. exclusiveMinimum/exclusiveMaximum are OpenAPI 3.0 booleans (3.1 numbers accepted too).
  auto limit = [&](const char* key, const char* excl_key, bool is_max) {
    const json* l = member(s, key);
    const json* ex = member(s, excl_key);
    bool exclusive = ex && ex->is_boolean() && ex->get<bool>();
    if (ex && ex->is_number()) {
      l = ex;
      exclusive = true;
    }
    if (!l || !l->is_number()) return;
    double lim = l->get<double>();
    bool bad;
    std::string shown;
    if (is_int) {
      int64_t li = saturate(lim);
      int64_t x = as_int(v);
      bad = is_max ? (exclusive ? x >= li : x > li) : (exclusive ? x <= li : x < li);
      shown = std::to_string(li);
    } else {
      double x = as_double(v);
      bad = is_max ? (exclusive ? x >= lim : x > lim) : (exclusive ? x <= lim : x < lim);
      shown = go_float(lim);
    }
    if (!bad) return;
    std::string rel =
        is_max ? (exclusive ? " should be less than " : " should be less than or equal to ")
               : (exclusive ? " should be greater than " : " should be greater than or equal to ");
    errors.push_back(invalid_cause(path, v, in_body(path) + rel + shown));
  };
  limit("minimum", "exclusiveMinimum", false);
  limit("maximum", "exclusiveMaximum", true);
}

// The value validators of one schema node, in kube-openapi's order: string, format, number,
// array, enum, object size.
void Walker::values(const json& v, Kind k, const json& s, const std::string& path) {
  TypeSpec ts = types_of(s);
  if (k == Kind::kString) {
    const auto& str = v.get_ref<const std::string&>();
    // kube-openapi's string validator stops at its first failure.
    auto max = int_member(s, "maxLength");
    auto min = int_member(s, "minLength");
    const json* pat = member(s, "pattern");
    size_t runes = (max || min) ? detail::rune_count(str) : 0;
    if (max && static_cast<int64_t>(runes) > *max) {
      errors.push_back(too_long_cause(path, *max));
    } else if (min && static_cast<int64_t>(runes) < *min) {
      errors.push_back(invalid_cause(
          path, v, in_body(path) + " should be at least " + std::to_string(*min) + " chars long"));
    } else if (pat && pat->is_string()) {
      const auto& p = pat->get_ref<const std::string&>();
      std::string compile_error;
      auto matched = detail::pattern_search(p, str, compile_error);
      if (!matched)
        errors.push_back(invalid_cause(path, v,
                                       in_body(path) + " should match '" + p +
                                           ", but pattern is invalid: " + compile_error + "'"));
      else if (!*matched)
        errors.push_back(invalid_cause(path, v, in_body(path) + " should match '" + p + "'"));
    }
    if (!ts.format.empty() && !detail::format_ok(ts.format, str))
      errors.push_back(type_cause(
          path, v,
          in_body(path) + " must be of type " + std::string(ts.format) + ": " + go_quote(str)));
  } else if (k == Kind::kInt || k == Kind::kFloat) {
    numbers(v, k, s, ts, path);
  } else if (k == Kind::kArray) {
    auto size = static_cast<int64_t>(v.size());
    if (auto min = int_member(s, "minItems"); min && size < *min)
      errors.push_back(invalid_cause(
          path, json(size),
          in_body(path) + " should have at least " + std::to_string(*min) + " items"));
    if (auto max = int_member(s, "maxItems"); max && size > *max)
      errors.push_back(too_many_cause(path, size, *max));
    if (flag(s, "uniqueItems")) {
      bool dup = false;
      for (size_t i = 0; i < v.size() && !dup; ++i)
        for (size_t j = 0; j < i && !dup; ++j) dup = v[i] == v[j];
      if (dup)
        errors.push_back(
            invalid_cause(path, json(""), in_body(path) + " shouldn't contain duplicates"));
    }
  }
  if (const json* e = member(s, "enum"); e && e->is_array() && !e->empty()) {
    bool found = false;
    for (const auto& x : *e)
      if (x == v) {
        found = true;
        break;
      }
    if (!found) errors.push_back(not_supported_cause(path, v, *e));
  }
  if (k == Kind::kObject) {
    auto n = static_cast<int64_t>(v.size());
    if (auto min = int_member(s, "minProperties"); min && n < *min)
      errors.push_back(invalid_cause(
          path, json(n),
          in_body(path) + " should have at least " + std::to_string(*min) + " properties"));
    if (auto max = int_member(s, "maxProperties"); max && n > *max)
      errors.push_back(too_many_cause(path, n, *max));
  }
}

void Walker::drop_all(json& v, const std::string& path) {
  if (!v.is_object()) return;
  if (track_unknown_)
    for (const auto& [key, _] : v.items())
      unknown.push_back({"FieldValueUnknown", child_path(path, key),
                         "unknown field " + go_quote(child_path(path, key))});
  if (prune_) v = json::object();
}

void Walker::walk(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
                  bool meta_rules, bool preserve_in) {
  const Kind k = kind_of(v);
  if (parts.empty()) {
    // No schema: CRD pruning empties objects (pruning's s == nil), unless preserved above.
    if (crd_ && !preserve_in && k == Kind::kObject) drop_all(v, path);
    if (crd_ && !preserve_in && k == Kind::kArray)
      for (size_t i = 0; i < v.size(); ++i)
        walk(v[i], parts, index_path(path, i), index_path(fpath, i), false, false);
    return;
  }
  bool nullable = false, preserve = preserve_in, embedded = false;
  for (const json* s : parts) {
    nullable |= flag(*s, "nullable");
    preserve |= flag(*s, "x-kubernetes-preserve-unknown-fields");
    embedded |= flag(*s, "x-kubernetes-embedded-resource");
  }
  if (k == Kind::kNull) {
    // Go decodes null into a built-in field's zero value; a CRD accepts it only when nullable.
    if (nullable || !crd_) return;
    for (const json* s : parts) {
      TypeSpec ts = types_of(*s);
      if (ts.n > 0)
        errors.push_back(type_cause(
            path, json("null"),
            in_body(path) + " must be of type " + ts.joined() + ": " + go_quote("null")));
    }
    return;
  }
  bool type_ok = true;
  for (const json* s : parts) type_ok = check_type(v, k, types_of(*s), path) && type_ok;
  for (const json* s : parts) composites(v, *s, path, fpath);
  for (const json* s : parts) values(v, k, *s, path);
  if (parts.quantity && k == Kind::kString && !detail::is_quantity(v.get_ref<const std::string&>()))
    errors.push_back(invalid_cause(path, v,
                                   "quantities must match the regular expression "
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  if (!type_ok) return;
  if (k == Kind::kObject && crd_ && embedded && !meta_rules) embedded_type_meta(v, fpath);
  if (k == Kind::kObject)
    object(v, parts, path, fpath, meta_rules || (crd_ && embedded), preserve);
  else if (k == Kind::kArray)
    array(v, parts, path, fpath, preserve);
}

const json* default_of(const Parts& parts) {
  for (const json* s : parts)
    if (const json* d = member(*s, "default")) return d;
  return nullptr;
}
bool nullable_of(const Parts& parts) {
  for (const json* s : parts)
    if (flag(*s, "nullable")) return true;
  return false;
}

void Walker::object(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
                    bool meta_rules, bool preserve) {
  bool has_props = false, has_additional = false, additional_true = false, additional_false = false;
  Parts map_parts;  // additionalProperties as a schema: a map
  for (const json* s : parts) {
    if (const json* p = member(*s, "properties"); p && p->is_object()) has_props = true;
    if (const json* ap = member(*s, "additionalProperties")) {
      has_additional = true;
      if (ap->is_boolean())
        (ap->get<bool>() ? additional_true : additional_false) = true;
      else
        expand(ap, map_parts, path);
    }
  }
  // In built-in documents `{"type":"object"}` alone is free-form (RawExtension, FieldsV1).
  const bool free_form = !crd_ && !has_props && !has_additional;
  auto property_parts = [&](const std::string& key, Parts& out) {
    for (const json* s : parts)
      if (const json* p = member(*s, "properties"); p && p->is_object())
        if (auto it = p->find(key); it != p->end()) expand(&*it, out, path);
  };
  auto declared = [&](const std::string& key) {
    for (const json* s : parts)
      if (const json* p = member(*s, "properties"); p && p->is_object() && p->contains(key))
        return true;
    return false;
  };

  // 1. Unknown fields: pruned and/or reported.
  if (!preserve && !free_form && !additional_true && map_parts.empty()) {
    std::vector<std::string> drop;
    for (const auto& [key, _] : v.items()) {
      if ((meta_rules && is_meta_field(key)) || declared(key)) continue;
      if (track_unknown_)
        unknown.push_back({"FieldValueUnknown", child_path(path, key),
                           "unknown field " + go_quote(child_path(path, key))});
      if (prune_)
        drop.push_back(key);
      else if (!track_unknown_ && additional_false)
        errors.push_back(
            invalid_cause(path, json(key), path + "." + key + " in body is a forbidden property"));
    }
    for (const auto& key : drop) v.erase(key);
  }

  // 2. Non-nullable nulls without a default go (PruneNonNullableNullsWithoutDefaults).
  if (prune_ && crd_) {
    std::vector<std::string> drop;
    for (const auto& [key, val] : v.items()) {
      if (!val.is_null() || (meta_rules && is_meta_field(key))) continue;
      Parts cp;
      property_parts(key, cp);
      if (cp.empty()) cp = map_parts;
      if (!cp.empty() && !nullable_of(cp) && !default_of(cp)) drop.push_back(key);
    }
    for (const auto& key : drop) v.erase(key);
  }

  // 3. Defaults: missing fields, and non-nullable nulls.
  if (defaults_) {
    for (const json* s : parts) {
      const json* props = member(*s, "properties");
      if (!props || !props->is_object()) continue;
      for (const auto& [key, ps] : props->items()) {
        if (meta_rules && is_meta_field(key)) continue;
        Parts cp;
        expand(&ps, cp, path);
        const json* def = default_of(cp);
        if (!def) continue;
        auto it = v.find(key);
        if (it == v.end())
          v[key] = *def;
        else if (it->is_null() && !nullable_of(cp))
          *it = *def;
      }
    }
    if (const json* def = default_of(map_parts); def && !nullable_of(map_parts)) {
      for (auto& [key, val] : v.items())
        if (val.is_null() && !declared(key)) val = *def;
    }
  }

  // 4. Children.
  for (auto& [key, val] : v.items()) {
    Parts cp;
    property_parts(key, cp);
    const std::string cpath = child_path(path, key);
    if (meta_rules && is_meta_field(key)) {
      if (cp.empty()) continue;
      if (key == "metadata")
        metadata(val, cp, cpath);
      else
        walk(val, cp, cpath, child_path(fpath, key), false, false);
      continue;
    }
    if (!cp.empty()) {
      walk(val, cp, cpath, child_path(fpath, key), false, false);
    } else if (!map_parts.empty()) {
      // field.Path writes map keys as [key]; kube-openapi writes .key
      walk(val, map_parts, cpath, fpath + "[" + key + "]", false, false);
    }
  }

  // 5. Required fields (after defaulting, like the apiserver).
  for (const json* s : parts)
    if (const json* req = member(*s, "required"); req && req->is_array())
      for (const auto& name : *req)
        if (name.is_string() && !v.contains(name.get_ref<const std::string&>()))
          errors.push_back(required_cause(child_path(path, name.get_ref<const std::string&>())));
}

// An embedded resource needs apiVersion and kind (objectmeta.Validate); its ObjectMeta is
// checked by the server like any metadata, not here.
void Walker::embedded_type_meta(const json& v, const std::string& fpath) {
  const std::string api_path = child_path(fpath, "apiVersion"),
                    kind_path = child_path(fpath, "kind");
  auto api = v.find("apiVersion");
  if (api == v.end()) {
    meta.push_back(required_cause(api_path));
  } else if (!api->is_string()) {
    meta.push_back(invalid_cause(api_path, *api, "must be a string"));
  } else if (api->get_ref<const std::string&>().empty()) {
    meta.push_back(required_cause(api_path));
  } else if (const auto& gv = api->get_ref<const std::string&>();
             std::count(gv.begin(), gv.end(), '/') > 1) {
    meta.push_back(invalid_cause(api_path, *api, "unexpected GroupVersion string: " + gv));
  }
  auto kind = v.find("kind");
  if (kind == v.end()) {
    meta.push_back(required_cause(kind_path));
  } else if (!kind->is_string()) {
    meta.push_back(invalid_cause(kind_path, *kind, "must be a string"));
  } else if (kind->get_ref<const std::string&>().empty()) {
    meta.push_back(required_cause(kind_path));
  } else {
    // IsDNS1035Label(strings.ToLower(kind))
    const auto& k = kind->get_ref<const std::string&>();
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    bool ok = k.size() <= 63 && lower(k.front()) >= 'a' && lower(k.front()) <= 'z';
    for (char c : k) {
      char l = lower(c);
      ok = ok && ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-');
    }
    ok = ok && k.back() != '-';
    if (!ok)
      meta.push_back(invalid_cause(
          kind_path, *kind,
          "may have mixed case, but should otherwise match: a DNS-1035 label must consist of "
          "lower case alphanumeric characters or '-', start with an alphabetic character, and end "
          "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
          "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
  }
}

// A resource's metadata in a CRD: the server validates ObjectMeta itself, the schema may only
// constrain name and generateName.
void Walker::metadata(json& v, const Parts& parts, const std::string& path) {
  const Kind k = kind_of(v);
  if (k == Kind::kNull) return;
  bool ok = true;
  for (const json* s : parts) ok = check_type(v, k, types_of(*s), path) && ok;
  if (!ok || k != Kind::kObject) return;
  for (const char* key : {"name", "generateName"}) {
    auto it = v.find(key);
    if (it == v.end()) continue;
    Parts cp;
    for (const json* s : parts)
      if (const json* p = member(*s, "properties"); p && p->is_object())
        if (auto pit = p->find(key); pit != p->end()) expand(&*pit, cp, path);
    if (!cp.empty()) walk(*it, cp, child_path(path, key), child_path(path, key), false, false);
  }
}

void Walker::array(json& v, const Parts& parts, const std::string& path, const std::string& fpath,
                   bool preserve) {
  Parts items;
  for (const json* s : parts)
    if (const json* it = member(*s, "items"); it && it->is_object()) expand(it, items, path);
  if (defaults_ && !items.empty()) {
    if (const json* def = default_of(items); def && !nullable_of(items))
      for (auto& x : v)
        if (x.is_null()) x = *def;
  }
  for (size_t i = 0; i < v.size(); ++i)
    walk(v[i], items, index_path(path, i), index_path(fpath, i), false, preserve);
  if (lists_) list_type(v, parts, fpath);
}

// Go compares scalars by dynamic type and value (int64 1 != float64 1), compounds by their JSON.
std::string set_key(const json& x) {
  switch (kind_of(x)) {
    case Kind::kNull:
      return "n";
    case Kind::kBool:
      return x.get<bool>() ? "b1" : "b0";
    case Kind::kInt:
      return "i" + x.dump();
    case Kind::kFloat:
      return "f" + go_float(as_double(x));
    case Kind::kString:
      return "s" + x.get<std::string>();
    default:
      return "c" + detail::go_json(x);
  }
}

// x-kubernetes-list-type set/map uniqueness (listtype.ValidateListSetsAndMaps): the second
// occurrence of each duplicate is reported, with field.Path-style indexes.
void Walker::list_type(const json& v, const Parts& parts, const std::string& fpath) {
  std::string type;
  const json* keys = nullptr;
  for (const json* s : parts) {
    if (const json* t = member(*s, "x-kubernetes-list-type"); t && t->is_string() && type.empty())
      type = t->get<std::string>();
    if (const json* k = member(*s, "x-kubernetes-list-map-keys"); k && k->is_array() && !keys)
      keys = k;
  }
  if (type == "set") {
    std::unordered_map<std::string, int> seen;
    for (size_t i = 0; i < v.size(); ++i)
      if (++seen[set_key(v[i])] == 2) dups.push_back(duplicate_cause(index_path(fpath, i), v[i]));
  } else if (type == "map") {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_null() && !v[i].is_object()) {
        dups.push_back(invalid_cause(index_path(fpath, i), v[i],
                                     "must be an object for an array of list-type map"));
        return;
      }
    }
    if (v.size() <= 1 || !keys || keys->empty()) return;
    std::unordered_map<std::string, int> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      json key = json::object();
      std::string id;
      if (keys->size() == 1) {
        const std::string field = (*keys)[0].is_string() ? (*keys)[0].get<std::string>() : "";
        if (v[i].is_object() && v[i].contains(field)) {
          key[field] = v[i][field];
          id = set_key(v[i][field]);
        } else {
          id = "u";  // unspecified key
        }
      } else {
        for (const auto& f : *keys) {
          if (!f.is_string()) continue;
          const std::string& field = f.get_ref<const std::string&>();
          if (v[i].is_object() && v[i].contains(field)) key[field] = v[i][field];
        }
        id = detail::go_json(key);
      }
      if (++seen[id] == 2) dups.push_back(duplicate_cause(index_path(fpath, i), key));
    }
  }
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Cause& c) {
  return os << "{" << c.reason << " " << go_quote(c.field) << " " << go_quote(c.message) << "}";
}

std::string Result::to_string() const {
  std::string out;
  for (const auto& c : causes) out += c.field + ": " + c.message + " (" + c.reason + ")\n";
  return out;
}

Result validate(json& value, const json& schema, const Document* doc, const Options& opts,
                const std::string& path) {
  Walker w(doc, opts, /*mutate=*/true, opts.report_unknown, /*lists=*/true);
  Parts parts;
  w.expand(&schema, parts, path);
  bool root = opts.resource_root && path.empty() && opts.dialect == Dialect::kCrd;
  w.walk(value, parts, path, path, root, false);
  Result r;
  r.causes = std::move(w.unknown);
  r.causes.insert(r.causes.end(), w.errors.begin(), w.errors.end());
  r.causes.insert(r.causes.end(), w.meta.begin(), w.meta.end());
  r.causes.insert(r.causes.end(), w.dups.begin(), w.dups.end());
  return r;
}

}  // namespace rc::schema

// Field sets in the shape of fieldsV1, their algebra, and their paths as conflict messages print
// them (structured-merge-diff's fieldpath.Path.String).
#include <cstdio>
#include <stdexcept>

#include "field_set.h"

namespace rc::sim::patch_detail {

using nlohmann::json;

bool FieldSet::empty() const {
  for (const auto& [k, c] : children)
    if (c.member || !c.empty()) return false;
  return true;
}

void FieldSet::insert(const Elements& path) {
  FieldSet* node = this;
  for (const auto& e : path) node = &node->children[e];
  if (!path.empty()) node->member = true;
}

static void visit(const FieldSet& s, Elements& prefix,
                  const std::function<void(const Elements&)>& fn) {
  for (const auto& [e, c] : s.children) {
    if (!c.member) continue;
    prefix.push_back(e);
    fn(prefix);
    prefix.pop_back();
  }
  for (const auto& [e, c] : s.children) {
    if (c.children.empty()) continue;
    prefix.push_back(e);
    visit(c, prefix, fn);
    prefix.pop_back();
  }
}

void FieldSet::for_each(const std::function<void(const Elements&)>& fn) const {
  Elements prefix;
  visit(*this, prefix, fn);
}

FieldSet FieldSet::from_fields_v1(const json& fields) {
  if (!fields.is_object()) throw std::invalid_argument("fieldsV1 must be an object");
  FieldSet s;
  for (const auto& [k, v] : fields.items()) {
    if (k == ".") {
      s.member = true;
      continue;
    }
    if (k.size() < 2 || k[1] != ':' || std::string("fkvi").find(k[0]) == std::string::npos)
      throw std::invalid_argument("unknown path element " + k);
    FieldSet c = from_fields_v1(v);
    if (v.empty()) c.member = true;
    s.children[k] = std::move(c);
  }
  return s;
}

static json node_json(const FieldSet& s) {
  json out = json::object();
  bool any_child = false;
  for (const auto& [k, c] : s.children) {
    if (!c.member && c.empty()) continue;
    out[k] = node_json(c);
    any_child = true;
  }
  if (s.member && any_child) out["."] = json::object();
  return out;
}

json FieldSet::to_fields_v1() const {
  json out = node_json(*this);
  out.erase(".");
  return out;
}

FieldSet unite(const FieldSet& a, const FieldSet& b) {
  FieldSet out = a;
  out.member = a.member || b.member;
  for (const auto& [k, c] : b.children) {
    auto it = out.children.find(k);
    if (it == out.children.end())
      out.children[k] = c;
    else
      it->second = unite(it->second, c);
  }
  return out;
}

FieldSet subtract(const FieldSet& a, const FieldSet& b) {
  FieldSet out;
  out.member = a.member && !b.member;
  for (const auto& [k, c] : a.children) {
    auto it = b.children.find(k);
    FieldSet d = it == b.children.end() ? c : subtract(c, it->second);
    if (d.member || !d.empty()) out.children[k] = std::move(d);
  }
  return out;
}

FieldSet intersect(const FieldSet& a, const FieldSet& b) {
  FieldSet out;
  out.member = a.member && b.member;
  for (const auto& [k, c] : a.children) {
    auto it = b.children.find(k);
    if (it == b.children.end()) continue;
    FieldSet d = intersect(c, it->second);
    if (d.member || !d.empty()) out.children[k] = std::move(d);
  }
  return out;
}

FieldSet with_parent_fields(const FieldSet& s) {
  FieldSet out;
  out.member = s.member;
  for (const auto& [k, c] : s.children) {
    FieldSet d = with_parent_fields(c);
    if (k[0] == 'f' && !c.empty()) d.member = true;
    out.children[k] = std::move(d);
  }
  return out;
}

// Go's %q.
static std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

// structured-merge-diff's value.ToString.
static std::string value_string(const json& v) {
  if (v.is_string()) return go_quote(v.get<std::string>());
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + value_string(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s;
    for (const auto& [k, x] : v.items()) s += k + "=" + value_string(x);
    return s;
  }
  return v.dump();
}

std::string path_string(const Elements& path) {
  std::string out;
  for (const auto& e : path) {
    std::string rest = e.substr(2);
    switch (e[0]) {
      case 'f':
        out += "." + rest;
        break;
      case 'k': {
        json key = json::parse(rest, nullptr, false);
        out += "[";
        bool first = true;
        for (const auto& [k, v] : key.items()) {
          out += (first ? "" : ",") + k + "=" + value_string(v);
          first = false;
        }
        out += "]";
        break;
      }
      case 'v':
        out += "[=" + value_string(json::parse(rest, nullptr, false)) + "]";
        break;
      default:
        out += "[" + rest + "]";
    }
  }
  return out;
}

}  // namespace rc::sim::patch_detail

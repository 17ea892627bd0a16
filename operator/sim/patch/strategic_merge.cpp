// Strategic merge patch, applied the way k8s.io/apimachinery's strategicpatch applies a patch on
// the server (MergeParallelList and IgnoreUnmatchedNulls on): the same directives, the same list
// ordering (patch order first, then the live order) and the same error wording.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "remotecode/sim/patch.h"

namespace rc::sim {
namespace {

using nlohmann::json;
using Path = std::vector<std::string>;

const std::string kDirective = "$patch";
const std::string kRetainKeys = "$retainKeys";
const std::string kSetOrder = "$setElementOrder/";
const std::string kDeleteFrom = "$deleteFromPrimitiveList/";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Go's %v of a decoded JSON value, for error messages worded like the apiserver's.
std::string go_value(const json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      s += (first ? "" : " ") + k + ":" + go_value(x);
      first = false;
    }
    return s + "]";
  }
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_value(v[i]);
    return s + "]";
  }
  return v.dump();
}

// Go's reflect.TypeOf of a decoded JSON value: values of different types replace each other.
int go_type(const json& v) {
  if (v.is_object()) return 1;
  if (v.is_array()) return 2;
  if (v.is_string()) return 3;
  if (v.is_number()) return 4;
  if (v.is_boolean()) return 5;
  return 0;
}

PatchError no_merge_key(const json& m, const std::string& key) {
  return PatchError("map: " + go_value(m) + " does not contain declared merge key: " + key);
}
PatchError bad_patch_type(const json& type, const json& m) {
  return PatchError("unknown patch type: " + go_value(type) + " in map: " + go_value(m));
}
PatchError bad_arg_type(const char* expected, const json& actual) {
  const char* names[] = {"<nil>", "map[string]interface {}", "[]interface {}", "string", "float64",
                         "bool"};
  return PatchError(std::string("expected a ") + expected + ", but received a " +
                    names[go_type(actual)]);
}

// A value the patch adds where the original has none: the apiserver decodes it into the typed
// object, which keeps neither directives nor nulls.
json clean(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items())
      if (!x.is_null() && !starts_with(k, "$")) out[k] = clean(x);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v)
      if (!(x.is_object() && x.value(kDirective, json()) == "delete")) out.push_back(clean(x));
    return out;
  }
  return v;
}

class Merger {
 public:
  explicit Merger(const ListSemanticsFn& lists) : lists_(lists) {}

  json merge_map(json original, json patch, const Path& path) {
    if (patch.contains(kDirective)) {
      const json directive = patch[kDirective];
      if (directive == "replace") {
        patch.erase(kDirective);
        return clean(patch);
      }
      if (directive == "delete") return json::object();
      throw bad_patch_type(directive, patch);
    }
    if (!original.is_object()) original = json::object();
    retain_keys(original, patch);
    set_element_orders(original, patch, path);

    std::vector<std::string> keys;
    for (const auto& item : patch.items()) keys.push_back(item.key());
    for (std::string k : keys) {
      const json pv = patch[k];
      bool delete_list = false;
      if (starts_with(k, kDeleteFrom)) {
        k = k.substr(kDeleteFrom.size());
        if (k.empty()) throw PatchError("invalid patch format of primitive list", 400);
        delete_list = true;
      } else if (starts_with(k, "$")) {
        continue;  // a directive for another key, or one the typed object would drop
      }
      if (pv.is_null()) {
        original.erase(k);
        continue;
      }
      if (!original.contains(k)) {
        if (!delete_list) original[k] = clean(pv);
        continue;
      }
      json& ov = original[k];
      if (go_type(ov) != go_type(pv)) {
        ov = clean(pv);
      } else if (ov.is_object()) {
        ov = merge_map(std::move(ov), pv, child(path, k));
      } else if (ov.is_array()) {
        ov = merge_list(std::move(ov), pv, child(path, k), delete_list);
      } else {
        ov = pv;
      }
    }
    return original;
  }

 private:
  static Path child(Path p, const std::string& k) {
    p.push_back(k);
    return p;
  }

  // Merge key of the list at `path`, "" for primitive lists; `merge` false when it is replaced.
  std::pair<bool, std::string> strategy(const Path& path, const json& list) const {
    ListSemantics sem = lists_ ? lists_(path, list) : ListSemantics{};
    if (sem.kind == ListSemantics::Atomic) return {false, ""};
    if (sem.kind == ListSemantics::Map && !sem.keys.empty()) return {true, sem.keys[0]};
    return {true, ""};
  }

  static void retain_keys(json& original, json& patch) {
    if (!patch.contains(kRetainKeys)) return;
    json retain = patch[kRetainKeys];
    patch.erase(kRetainKeys);
    if (!retain.is_array()) throw PatchError("invalid patch format of retainKeys", 400);
    auto kept = [&](const std::string& k) {
      return std::find(retain.begin(), retain.end(), json(k)) != retain.end();
    };
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null() || starts_with(k, kDeleteFrom) || starts_with(k, kSetOrder)) continue;
      if (!kept(k)) throw PatchError("invalid patch format of retainKeys", 400);
    }
    for (auto it = original.begin(); it != original.end();) {
      if (kept(it.key()))
        ++it;
      else
        it = original.erase(it);
    }
  }

  // Is `item` (a map) in `list` by merge key, or (a scalar) by value?
  static long index_of(const json& list, const json& item, const std::string& key) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (key.empty() ? list[i] == item
                      : (list[i].is_object() && item.is_object() && list[i].contains(key) &&
                         item.contains(key) && list[i][key] == item[key]))
        return static_cast<long>(i);
    }
    return -1;
  }

  // $setElementOrder/<list>: merge the list now, then order it as the directive says.
  void set_element_orders(json& original, json& patch, const Path& path) {
    std::vector<std::string> directives;
    for (const auto& item : patch.items())
      if (starts_with(item.key(), kSetOrder)) directives.push_back(item.key());
    for (const auto& d : directives) {
      json order = patch[d];
      patch.erase(d);
      if (!order.is_array()) throw bad_arg_type("[]interface {}", order);
      std::string key = d.substr(kSetOrder.size());
      if (key.empty()) throw PatchError("invalid patch format of setElementOrder list", 400);
      bool has_original = original.contains(key), has_patch = patch.contains(key);
      if (!has_original && !has_patch) continue;
      json orig = has_original ? original[key] : json::array();
      json plist = has_patch ? patch[key] : json::array();
      if (!orig.is_array()) throw bad_arg_type("[]interface {}", orig);
      if (!plist.is_array()) throw bad_arg_type("[]interface {}", plist);
      auto [merge, merge_key] = strategy(child(path, key), has_patch ? plist : orig);
      check_order(plist, order, merge_key);
      json merged;
      if (!has_patch)
        merged = orig;
      else if (!has_original)
        merged = clean(plist);
      else
        merged = merge_list(orig, plist, child(path, key), false);
      json elements = orig;
      for (const auto& x : plist) elements.push_back(x);
      if (elements.empty()) {
        original[key] = merged;
      } else {
        bool maps = element_kind(elements).is_object();
        auto [in_order, server_only] = partition(merged, order, maps ? merge_key : "");
        original[key] = normalize_order(in_order, server_only, order, orig, maps ? merge_key : "");
      }
      patch.erase(key);
    }
  }

  // The items of a patch list must appear in the $setElementOrder list, in the same order.
  static void check_order(const json& plist, const json& order, const std::string& key) {
    if (order.empty() || plist.empty()) return;
    json items = json::array();
    for (const auto& x : plist)
      if (key.empty() || !(x.is_object() && x.value(kDirective, json()) == "delete"))
        items.push_back(x);
    size_t p = 0, o = 0;
    while (p < items.size() && o < order.size()) {
      if (items[p].is_object() && items[p].contains(kDirective)) {
        ++p;
        continue;
      }
      bool equal;
      if (key.empty()) {
        equal = items[p] == order[o];
      } else {
        if (!items[p].is_object() || !items[p].contains(key)) throw no_merge_key(items[p], key);
        if (!order[o].is_object() || !order[o].contains(key)) throw no_merge_key(order[o], key);
        equal = items[p][key] == order[o][key];
      }
      if (equal) ++p;
      ++o;
    }
    if (p < items.size() && o >= order.size())
      throw PatchError("The order in patch list:\n" + go_value(plist) + "\n doesn't match " +
                       kSetOrder + " list:\n" + go_value(order) + "\n");
  }

  // A representative element (all must share a type, none may be a list).
  static json element_kind(const json& elements) {
    int type = -1;
    for (const auto& x : elements) {
      if (x.is_array()) throw PatchError("lists of lists are not supported", 422);
      if (type >= 0 && go_type(x) != type)
        throw PatchError("list element types are not identical: " + go_value(elements));
      type = go_type(x);
    }
    return elements.empty() ? json() : elements[0];
  }

  json merge_list(json orig, json plist, const Path& path, bool delete_list) {
    auto [merge, key] = strategy(path, plist.empty() ? orig : plist);
    if (!merge && !delete_list) return clean(plist);
    if (orig.empty() && plist.empty()) return orig;
    json all = orig;
    for (const auto& x : plist) all.push_back(x);
    bool maps = element_kind(all).is_object();
    json merged = json::array();
    if (!maps) {
      key.clear();
      if (delete_list) {
        for (const auto& x : orig)
          if (std::find(plist.begin(), plist.end(), x) == plist.end()) merged.push_back(x);
        return merged;
      }
      for (const auto& x : all)
        if (std::find(merged.begin(), merged.end(), x) == merged.end()) merged.push_back(x);
    } else {
      if (key.empty()) throw PatchError("cannot merge lists without merge key for type struct");
      special_elements(orig, plist, key);
      merged = orig;
      for (const auto& item : plist) {
        if (!item.contains(key)) throw no_merge_key(item, key);
        long i = index_of(merged, item, key);
        if (i >= 0)
          merged[i] = merge_map(merged[i], item, path);
        else
          merged.push_back(clean(item));
      }
    }
    auto [in_patch, server_only] = partition(merged, plist, key);
    return normalize_order(in_patch, server_only, plist, orig, key);
  }

  // $patch in list items: delete removes the live item with that key, replace keeps only the
  // patch's items. Leaves `plist` without the special items.
  static void special_elements(json& orig, json& plist, const std::string& key) {
    json rest = json::array();
    bool replace = false;
    for (const auto& item : plist) {
      if (!item.contains(kDirective)) {
        rest.push_back(item);
        continue;
      }
      const json& type = item[kDirective];
      if (type == "delete") {
        if (!item.contains(key)) throw no_merge_key(item, key);
        json kept = json::array();
        for (const auto& o : orig)
          if (!(o.contains(key) && o[key] == item[key])) kept.push_back(o);
        orig = std::move(kept);
      } else if (type == "replace") {
        replace = true;
      } else if (type == "merge") {
        throw PatchError("merging lists cannot yet be specified in the patch");
      } else {
        throw bad_patch_type(type, item);
      }
    }
    if (replace) {
      orig = clean(rest);
      plist = json::array();
    } else {
      plist = std::move(rest);
    }
  }

  // Splits `list` into the items present in `by` and the others, keeping their order.
  static std::pair<json, json> partition(const json& list, const json& by, const std::string& key) {
    json in = json::array(), out = json::array();
    for (const auto& x : list) {
      if (!key.empty() && (!x.is_object() || !x.contains(key))) throw no_merge_key(x, key);
      (index_of(by, x, key) >= 0 ? in : out).push_back(x);
    }
    return {in, out};
  }

  // Sorts `items` by their position in `order` (items not in it keep their place after), and
  // drops those `order` marks with $patch: delete.
  static json sort_by(const json& items, const json& order, const std::string& key) {
    std::vector<std::pair<long, json>> v;
    for (const auto& x : items) {
      long i = index_of(order, x, key);
      v.emplace_back(i < 0 ? static_cast<long>(order.size()) : i, x);
    }
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json out = json::array();
    for (auto& [i, x] : v) {
      bool deleted = !key.empty() && i < static_cast<long>(order.size()) && order[i].is_object() &&
                     order[i].value(kDirective, json()) == "delete";
      if (!deleted) out.push_back(std::move(x));
    }
    return out;
  }

  // The patch's items in the patch's order, the server-only items in the live order, merged so
  // that a server-only item goes first only when the live list has it before the patch item.
  static json normalize_order(const json& patch_items, const json& server_only,
                              const json& patch_order, const json& server_order,
                              const std::string& key) {
    json right = sort_by(patch_items, patch_order, key);
    json left = sort_by(server_only, server_order, key);
    json out = json::array();
    size_t i = 0, j = 0;
    while (i < left.size() || j < right.size()) {
      if (j >= right.size()) {
        out.push_back(left[i++]);
      } else if (i >= left.size()) {
        out.push_back(right[j++]);
      } else {
        long li = index_of(server_order, left[i], key), ri = index_of(server_order, right[j], key);
        if (li >= 0 && ri >= 0 && li < ri)
          out.push_back(left[i++]);
        else
          out.push_back(right[j++]);
      }
    }
    return out;
  }

  const ListSemanticsFn& lists_;
};

}  // namespace

json strategic_merge_patch(const json& original, const json& patch, const ListSemanticsFn& lists) {
  if (!patch.is_object())
    throw PatchError("json: cannot unmarshal " +
                         std::string(patch.is_array() ? "array" : patch.type_name()) +
                         " into Go value of type map[string]interface {}",
                     400);
  Merger m(lists);
  return m.merge_map(original, patch, {});
}

}  // namespace rc::sim

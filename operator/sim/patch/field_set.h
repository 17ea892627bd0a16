// Internal to the patch module: sets of field paths in the shape of managedFields' fieldsV1, and
// the walks server-side apply makes over objects (field set of a value, compare, merge, remove),
// after sigs.k8s.io/structured-merge-diff with the schema reduced to FieldSemantics.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotecode/sim/patch.h"

namespace rc::sim::patch_detail {

// Path elements are kept as fieldsV1 spells them: "f:name", "k:{\"name\":\"app\"}", "v:\"x\"",
// "i:0". A path is the list of elements from the object root.
using Elements = std::vector<std::string>;

struct FieldSet {
  bool member = false;  // the path ending at this node is in the set (meaningless at the root)
  std::map<std::string, FieldSet> children;

  bool empty() const;  // no member anywhere below (the root's own flag aside)
  void insert(const Elements& path);
  // Visits every member path in structured-merge-diff's order: a node's members, then its
  // children's members, depth first, elements sorted.
  void for_each(const std::function<void(const Elements&)>& fn) const;

  // fieldsV1 <-> FieldSet. from_fields_v1 throws std::invalid_argument when malformed.
  static FieldSet from_fields_v1(const nlohmann::json& fields);
  nlohmann::json to_fields_v1() const;
};

FieldSet unite(const FieldSet& a, const FieldSet& b);
FieldSet subtract(const FieldSet& a, const FieldSet& b);   // membership in a and not in b
FieldSet intersect(const FieldSet& a, const FieldSet& b);  // membership in both
// The set plus every struct field ("f:") that has members below it, as structured-merge-diff's
// EnsureNamedFieldsAreMembers does before pruning (so a field left empty goes too).
FieldSet with_parent_fields(const FieldSet& s);

// ".spec.containers[name=\"app\"].image"
std::string path_string(const Elements& path);

struct Comparison {
  FieldSet added, modified, removed;
};

// Walks of objects under a type's FieldSemantics. strict: the value is an apply configuration,
// and a map-list item without its keys or a duplicate item throws PatchError (live objects fall
// back to treating such a list as atomic).
class TypedWalker {
 public:
  TypedWalker(const FieldSemantics& types, std::string gvk) : types_(types), gvk_(std::move(gvk)) {}

  FieldSet to_field_set(const nlohmann::json& obj, bool strict) const;
  Comparison compare(const nlohmann::json& lhs, const nlohmann::json& rhs) const;
  // The apply merge: maps recursively, map-lists by key, sets as sets, anything else from rhs.
  nlohmann::json merge(const nlohmann::json& lhs, const nlohmann::json& rhs) const;
  // Removes the members of `set` from `obj` (a member map or item goes whole); maps and lists
  // emptied by it go too.
  void remove(nlohmann::json& obj, const FieldSet& set) const;

 private:
  struct Keyed;  // a list's items with their path elements
  bool atomic_map(const std::vector<std::string>& names) const;
  ListSemantics list_semantics(const std::vector<std::string>& names,
                               const nlohmann::json& list) const;
  bool key_items(const std::vector<std::string>& names, const nlohmann::json& list, bool strict,
                 Keyed& out) const;

  void to_set(const nlohmann::json& v, std::vector<std::string>& names, Elements& elems,
              bool strict, FieldSet& out) const;
  void compare(const nlohmann::json* l, const nlohmann::json* r, std::vector<std::string>& names,
               Elements& elems, Comparison& c) const;
  bool merge(const nlohmann::json* l, const nlohmann::json* r, std::vector<std::string>& names,
             nlohmann::json& out) const;
  void remove(nlohmann::json& v, const FieldSet& set, std::vector<std::string>& names) const;

  const FieldSemantics& types_;
  std::string gvk_;  // "apps/v1, Kind=Deployment", for error messages
};

}  // namespace rc::sim::patch_detail

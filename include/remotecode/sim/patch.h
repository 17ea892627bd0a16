// The simulator's patch machinery, pure functions on JSON objects: strategic merge patch as
// kube-apiserver applies it, and server-side apply with managedFields (ownership, conflicts,
// pruning).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace rc::sim {

// How a list merges. For server-side apply: Atomic (replaced whole, owned as one field), Map
// (x-kubernetes-list-type: map, items keyed by `keys`), Set (x-kubernetes-list-type: set, scalars).
// Strategic merge patch reads the same struct as the patch strategy: Map merges items by keys[0]
// (the patch merge key), Set merges scalars (patchStrategy merge on a primitive list), Atomic
// replaces the list.
struct ListSemantics {
  enum Kind { Atomic, Map, Set } kind = Atomic;
  std::vector<std::string> keys;
  // Values an item may omit for a key field: the schema's defaults (ports' protocol: "TCP").
  nlohmann::json key_defaults = nlohmann::json::object();
};

// path: field names from the object root to the list, list positions omitted,
// e.g. {"spec","template","spec","containers"}.
using ListSemanticsFn =
    std::function<ListSemantics(const std::vector<std::string>& path, const nlohmann::json& list)>;

// True when the JSON object at `path` is atomic (x-kubernetes-map-type: atomic): apply replaces
// it whole and it is owned as one field. An object inside a list has the list's path.
using AtomicMapFn = std::function<bool(const std::vector<std::string>& path)>;

// What server-side apply needs to know of a type. Converts from any ListSemanticsFn-like callable,
// in which case every object is granular.
struct FieldSemantics {
  ListSemanticsFn lists;
  AtomicMapFn atomic_maps;  // empty: no atomic maps

  FieldSemantics() = default;
  FieldSemantics(ListSemanticsFn l, AtomicMapFn a = {})
      : lists(std::move(l)), atomic_maps(std::move(a)) {}
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FieldSemantics> &&
                                              !std::is_same_v<std::decay_t<F>, ListSemanticsFn> &&
                                              std::is_constructible_v<ListSemanticsFn, F>>>
  FieldSemantics(F f) : lists(std::move(f)) {}
};

// Server-side apply list types of the built-in types the simulator serves (x-kubernetes-list-type
// and x-kubernetes-list-map-keys of the 1.32 schemas). Lists not named are atomic. Does not know
// the kind: status.conditions is a map keyed by type (Job's, atomic, needs the kind-aware form).
ListSemantics builtin_list_semantics(const std::vector<std::string>& path,
                                     const nlohmann::json& list);
// x-kubernetes-map-type: atomic objects of the built-in types (selectors, nodeSelector,
// *KeyRef...).
bool builtin_atomic_map(const std::vector<std::string>& path);
// Both of the above, exact for `kind` (e.g. "Job"): what apply and record_update should be given.
FieldSemantics builtin_field_semantics(const std::string& kind);
// Strategic merge patch strategies of the built-in types (x-kubernetes-patch-strategy and
// x-kubernetes-patch-merge-key): Map{merge key}, Set for merged primitive lists, else Atomic.
ListSemantics builtin_patch_semantics(const std::vector<std::string>& path,
                                      const nlohmann::json& list);

// A malformed patch or apply configuration. The message is worded as kube-apiserver's; code() is
// the HTTP status it answers with (400 for malformed directives, 422 for lists of lists, 500 for
// the rest, which the apiserver reports as plain errors).
class PatchError : public std::invalid_argument {
 public:
  explicit PatchError(const std::string& message, int code = 500)
      : std::invalid_argument(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// application/strategic-merge-patch+json applied to `original`: maps merge recursively, null
// deletes a key, lists merge per `lists` (use builtin_patch_semantics), and the directives kubectl
// sends are honoured: $patch (replace|delete|merge), $retainKeys, $setElementOrder/<list>,
// $deleteFromPrimitiveList/<list>. Throws PatchError.
nlohmann::json strategic_merge_patch(const nlohmann::json& original, const nlohmann::json& patch,
                                     const ListSemanticsFn& lists);

struct FieldConflict {
  std::string manager;
  std::string field;  // ".data.key", ".spec.template.spec.containers[name=\"app\"].image"
  // The conflicting managedFields entry, for the wording ("using apps/v1" for Update entries).
  std::string operation = "Apply";
  std::string api_version;
  std::string subresource;
};

struct ApplyResult {
  nlohmann::json object;  // valid only when conflicts is empty
  std::vector<FieldConflict> conflicts;
};

// Server-side apply of `config` by `manager`. live: the current object, or null when it does not
// exist yet. now: RFC3339 time for managedFields. Returns the merged object with its new
// metadata.managedFields (not defaulted: default it after, as the apiserver does), or the
// conflicts when `force` is false and other managers own fields this apply changes. Throws
// PatchError for a configuration apply cannot type (a map-list item without its key, duplicates,
// metadata.managedFields set).
ApplyResult server_side_apply(const nlohmann::json& live, const nlohmann::json& config,
                              const std::string& manager, bool force, const FieldSemantics& types,
                              const std::string& api_version, const std::string& now,
                              const std::string& subresource = "");

// After any non-apply write (create, update, patch): sets new_obj's metadata.managedFields from
// old_obj's (old_obj null on create) the way kube-apiserver does for an Update by `manager`.
// new_obj's own managedFields are used instead when it carries a non-empty list (a client writing
// them); [] or [{}] resets them. Pass new_obj after defaulting: defaults belong to the writer.
void record_update(const nlohmann::json& old_obj, nlohmann::json& new_obj,
                   const std::string& manager, const FieldSemantics& types,
                   const std::string& api_version, const std::string& now,
                   const std::string& subresource = "");

// The Status message for a set of conflicts, worded as kube-apiserver does:
// `Apply failed with 1 conflict: conflict with "manager-a": .data.key`.
// The type's empty object as the apiserver serialises it (Go fields without omitempty kept):
// what a create is compared against, and what a watch BOOKMARK carries.
nlohmann::json empty_object_of(const std::string& api_version, const std::string& kind);

std::string apply_conflict_message(const std::vector<FieldConflict>& conflicts);
// The Status details.causes for them: [{type: FieldManagerConflict, message, field}].
nlohmann::json apply_conflict_causes(const std::vector<FieldConflict>& conflicts);

}  // namespace rc::sim

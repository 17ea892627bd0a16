// The simulator's storage: every object by resource and namespace/name, one global
// resourceVersion counter (as etcd's revision), a bounded history of changes for watches, and
// owner/UID indexes for the garbage collector. Callers hold `mutex()` around read-modify-write.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace rc::sim {

using ObjPtr = std::shared_ptr<const nlohmann::json>;

enum class EventType { Added, Modified, Deleted };
const char* event_type_name(EventType t);

struct ObjectRef {
  std::string storage_id;  // "group/plural"
  std::string key;         // "namespace/name" or "/name" for cluster-scoped objects
  bool operator<(const ObjectRef& o) const {
    return std::tie(storage_id, key) < std::tie(o.storage_id, o.key);
  }
};

struct Change {
  uint64_t rv = 0;
  EventType type = EventType::Added;
  std::string storage_id;
  ObjPtr object;    // the object after the change (for Deleted: as it was when removed)
  ObjPtr previous;  // before the change (null for Added)
};

std::string object_key(const std::string& ns, const std::string& name);

class Store {
 public:
  explicit Store(size_t history_size);

  std::mutex& mutex() { return mu_; }
  // Notified after every commit; wait on it with the mutex held.
  std::condition_variable& changed() { return changed_; }

  // --- all below require mutex() held ---
  ObjPtr get(const std::string& storage_id, const std::string& key) const;
  // Objects of one resource in key order; `ns` empty lists every namespace.
  std::vector<ObjPtr> list(const std::string& storage_id, const std::string& ns) const;
  size_t count(const std::string& storage_id) const;
  uint64_t current_rv() const { return rv_; }
  // Stores `object` (its metadata.resourceVersion is set here) and records the change.
  ObjPtr commit(const std::string& storage_id, nlohmann::json object, EventType type);
  // Removes the object, recording a Deleted change carrying `final_state` with a new rv.
  ObjPtr remove(const std::string& storage_id, const std::string& key, nlohmann::json final_state);
  // Oldest resourceVersion a watch may resume from (changes after it are all retained).
  uint64_t oldest_watchable_rv() const;
  // Changes with rv > since, in order. Returns false when `since` is older than the history.
  bool changes_since(uint64_t since, std::vector<Change>& out, size_t max = SIZE_MAX) const;
  // Object by UID (for the garbage collector); nullopt when no live object has it.
  std::optional<ObjectRef> find_uid(const std::string& uid) const;
  // Objects whose ownerReferences name `uid`.
  std::vector<ObjectRef> dependents(const std::string& uid) const;
  void set_history_size(size_t n);
  // Storage ids that hold (or held) objects.
  std::vector<std::string> storage_ids() const;
  // Fills an empty store with objects saved by an earlier run (storage id, object with its
  // resourceVersion), without recording changes: the history starts empty at `rv`, so a watch
  // from any earlier resourceVersion gets 410 and its client lists again.
  void restore(uint64_t rv, std::vector<std::pair<std::string, nlohmann::json>> objects);

 private:
  void index_owners(const ObjectRef& ref, const nlohmann::json* before,
                    const nlohmann::json* after);

  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t rv_ = 1;
  size_t history_size_;
  std::map<std::string, std::map<std::string, ObjPtr>> objects_;
  std::deque<Change> history_;
  uint64_t compacted_rv_ = 1;  // every change with rv > compacted_rv_ is in history_
  std::unordered_map<std::string, ObjectRef> uids_;
  std::unordered_map<std::string, std::set<ObjectRef>> dependents_;
};

}  // namespace rc::sim

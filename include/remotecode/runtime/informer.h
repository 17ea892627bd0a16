// Informer: list + watch of one resource into an indexed cache (by namespace/name, namespace and
// owner UID), with a transform that drops what controllers never read before it is cached, and
// handlers for adds, updates and deletes. It resumes a dropped watch from the last seen
// resourceVersion (bookmarks keep that fresh), takes a silent watch for dead, backs off (jittered,
// per informer) after a watch that fails or ends at once, and lists again after 410 Expired or
// after repeated failures.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "remotecode/kube/client.h"
#include "remotecode/kube/watch.h"

namespace rc::runtime {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
std::string object_key(const nlohmann::json& obj);

// Readers read; only the informer writes.
class Store {
 public:
  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> list_namespace(const std::string& ns) const;
  std::vector<ObjectPtr> by_owner(const std::string& owner_uid) const;
  size_t size() const;

  // --- the informer's side ---
  // Returns the previous object (null when new).
  ObjectPtr upsert(ObjectPtr obj);
  ObjectPtr erase(const std::string& key);
  // Replaces everything; returns the objects that disappeared.
  std::vector<ObjectPtr> replace(std::vector<ObjectPtr> objs);

 private:
  void index(const std::string& key, const ObjectPtr& before, const ObjectPtr& after);
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr> items_;
  std::map<std::string, std::set<std::string>> by_namespace_;
  std::unordered_map<std::string, std::set<std::string>> by_owner_;
};

struct EventHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct InformerOptions {
  std::string namespace_name;  // "" for every namespace
  std::string label_selector;
  std::string field_selector;
  int watch_timeout_seconds = 300;  // each watch asks the server to end it by then (jittered)
  // No byte for this long and a watch is taken for dead; 0: kube::idle_limit_seconds's default.
  int watch_idle_timeout_seconds = 0;
  // Applied to every object before caching; the default drops managedFields and the
  // last-applied-configuration annotation.
  std::function<void(nlohmann::json&)> transform;
};

class Informer {
 public:
  Informer(std::shared_ptr<kube::Client> client, kube::ResourceRef ref,
           InformerOptions options = {});
  ~Informer();
  void add_handlers(EventHandlers handlers);  // before start()
  // After stop(): drops the handlers, so lambdas that capture other informers (a controller's
  // watches) cannot keep a cycle of informers, and the client they share, alive.
  void clear_handlers();
  void start();
  void stop();
  // Asks the thread to end without waiting for it (stop() waits): a caller stopping many
  // informers overlaps the waits for their watches to notice.
  void request_stop();
  bool has_synced() const { return synced_; }
  // Waits until the first list has been cached; false on timeout or stop.
  bool wait_for_sync(std::chrono::milliseconds timeout);
  const Store& store() const { return store_; }
  const kube::ResourceRef& ref() const { return ref_; }
  // How often it listed (1 + one per 410 or run of failed watches): for tests and metrics.
  int64_t lists() const { return lists_; }
  // Why the last list or watch failed ("" when none has), e.g. for a cache that cannot sync.
  std::string last_error() const;

 private:
  void run();
  void relist();
  void apply(const kube::WatchEvent& ev);
  // Each handler runs alone: one that throws is logged and cannot stop the others or the watch.
  template <class Call>
  void notify(const Call& call);

  std::shared_ptr<kube::Client> client_;
  kube::ResourceRef ref_;
  InformerOptions options_;
  std::vector<EventHandlers> handlers_;
  Store store_;
  std::string resource_version_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> lists_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string last_error_;  // under mu_
  std::thread thread_;
};

void drop_unread_fields(nlohmann::json& obj);

}  // namespace rc::runtime

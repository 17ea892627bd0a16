#include "remotecode/sim/store.h"

#include <algorithm>
#include <stdexcept>

namespace rc::sim {

const char* event_type_name(EventType t) {
  switch (t) {
    case EventType::Added:
      return "ADDED";
    case EventType::Modified:
      return "MODIFIED";
    case EventType::Deleted:
      return "DELETED";
  }
  return "ERROR";
}

std::string object_key(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

Store::Store(size_t history_size) : history_size_(history_size) {}

ObjPtr Store::get(const std::string& storage_id, const std::string& key) const {
  auto r = objects_.find(storage_id);
  if (r == objects_.end()) return nullptr;
  auto it = r->second.find(key);
  return it == r->second.end() ? nullptr : it->second;
}

std::vector<ObjPtr> Store::list(const std::string& storage_id, const std::string& ns) const {
  std::vector<ObjPtr> out;
  auto r = objects_.find(storage_id);
  if (r == objects_.end()) return out;
  if (ns.empty()) {
    out.reserve(r->second.size());
    for (const auto& [k, v] : r->second) out.push_back(v);
    return out;
  }
  std::string prefix = ns + "/";
  for (auto it = r->second.lower_bound(prefix);
       it != r->second.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.push_back(it->second);
  return out;
}

size_t Store::count(const std::string& storage_id) const {
  auto r = objects_.find(storage_id);
  return r == objects_.end() ? 0 : r->second.size();
}

static std::string key_of(const nlohmann::json& obj) {
  const auto& md = obj.at("metadata");
  return object_key(md.value("namespace", ""), md.value("name", ""));
}

void Store::index_owners(const ObjectRef& ref, const nlohmann::json* before,
                         const nlohmann::json* after) {
  auto owners = [](const nlohmann::json* o) {
    std::set<std::string> s;
    if (!o) return s;
    auto md = o->find("metadata");
    if (md == o->end()) return s;
    auto refs = md->find("ownerReferences");
    if (refs == md->end() || !refs->is_array()) return s;
    for (const auto& r : *refs)
      if (r.contains("uid") && r["uid"].is_string()) s.insert(r["uid"].get<std::string>());
    return s;
  };
  auto b = owners(before);
  auto a = owners(after);
  for (const auto& u : b)
    if (!a.count(u)) {
      auto it = dependents_.find(u);
      if (it != dependents_.end()) {
        it->second.erase(ref);
        if (it->second.empty()) dependents_.erase(it);
      }
    }
  for (const auto& u : a) dependents_[u].insert(ref);
}

ObjPtr Store::commit(const std::string& storage_id, nlohmann::json object, EventType type) {
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  auto ptr = std::make_shared<const nlohmann::json>(std::move(object));
  std::string key = key_of(*ptr);
  auto& slot = objects_[storage_id][key];
  ObjPtr previous = slot;
  slot = ptr;
  ObjectRef ref{storage_id, key};
  std::string uid = ptr->at("metadata").value("uid", "");
  if (!uid.empty()) uids_[uid] = ref;
  index_owners(ref, previous.get(), ptr.get());
  history_.push_back({rv_, type, storage_id, ptr, previous});
  while (history_.size() > history_size_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  changed_.notify_all();
  return ptr;
}

ObjPtr Store::remove(const std::string& storage_id, const std::string& key,
                     nlohmann::json final_state) {
  auto r = objects_.find(storage_id);
  if (r == objects_.end()) return nullptr;
  auto it = r->second.find(key);
  if (it == r->second.end()) return nullptr;
  ObjPtr previous = it->second;
  r->second.erase(it);
  ++rv_;
  final_state["metadata"]["resourceVersion"] = std::to_string(rv_);
  auto ptr = std::make_shared<const nlohmann::json>(std::move(final_state));
  ObjectRef ref{storage_id, key};
  std::string uid = previous->at("metadata").value("uid", "");
  if (!uid.empty()) uids_.erase(uid);
  index_owners(ref, previous.get(), nullptr);
  history_.push_back({rv_, EventType::Deleted, storage_id, ptr, previous});
  while (history_.size() > history_size_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  changed_.notify_all();
  return ptr;
}

uint64_t Store::oldest_watchable_rv() const {
  return compacted_rv_;
}

bool Store::changes_since(uint64_t since, std::vector<Change>& out, size_t max) const {
  if (since < compacted_rv_) return false;
  if (history_.empty() || since >= history_.back().rv) return true;
  // history_ is ordered by rv: binary search the first change after `since`.
  size_t lo = 0, hi = history_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (history_[mid].rv <= since)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < history_.size() && out.size() < max; ++i) out.push_back(history_[i]);
  return true;
}

std::optional<ObjectRef> Store::find_uid(const std::string& uid) const {
  auto it = uids_.find(uid);
  if (it == uids_.end()) return std::nullopt;
  return it->second;
}

std::vector<ObjectRef> Store::dependents(const std::string& uid) const {
  auto it = dependents_.find(uid);
  if (it == dependents_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void Store::set_history_size(size_t n) {
  history_size_ = n;
}

std::vector<std::string> Store::storage_ids() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : objects_) out.push_back(k);
  return out;
}

void Store::restore(uint64_t rv, std::vector<std::pair<std::string, nlohmann::json>> objects) {
  if (rv_ != 1 || !objects_.empty())
    throw std::logic_error("Store::restore: the store is not empty");
  for (auto& [storage_id, object] : objects) {
    // The counter must stay ahead of every stored object's resourceVersion.
    uint64_t object_rv = 0;
    try {
      object_rv = std::stoull(object.at("metadata").value("resourceVersion", "0"));
    } catch (const std::exception&) {
    }
    rv = std::max(rv, object_rv);
    auto ptr = std::make_shared<const nlohmann::json>(std::move(object));
    std::string key = key_of(*ptr);
    objects_[storage_id][key] = ptr;
    ObjectRef ref{storage_id, key};
    std::string uid = ptr->at("metadata").value("uid", "");
    if (!uid.empty()) uids_[uid] = ref;
    index_owners(ref, nullptr, ptr.get());
  }
  rv_ = rv;
  compacted_rv_ = rv;
  history_.clear();
}

}  // namespace rc::sim

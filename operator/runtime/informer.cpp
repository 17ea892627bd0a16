#include "remotecode/runtime/informer.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <random>

namespace rc::runtime {

using nlohmann::json;

std::string object_key(const json& obj) {
  const auto& md = obj.at("metadata");
  std::string ns = md.value("namespace", "");
  return ns.empty() ? md.value("name", "") : ns + "/" + md.value("name", "");
}

void drop_unread_fields(json& obj) {
  auto& md = obj["metadata"];
  md.erase("managedFields");
  if (md.contains("annotations")) {
    md["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
    if (md["annotations"].empty()) md.erase("annotations");
  }
}

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock lk(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lk(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

std::vector<ObjectPtr> Store::list_namespace(const std::string& ns) const {
  std::shared_lock lk(mu_);
  std::vector<ObjectPtr> out;
  auto it = by_namespace_.find(ns);
  if (it == by_namespace_.end()) return out;
  for (const auto& k : it->second) out.push_back(items_.at(k));
  return out;
}

std::vector<ObjectPtr> Store::by_owner(const std::string& owner_uid) const {
  std::shared_lock lk(mu_);
  std::vector<ObjectPtr> out;
  auto it = by_owner_.find(owner_uid);
  if (it == by_owner_.end()) return out;
  for (const auto& k : it->second) out.push_back(items_.at(k));
  return out;
}

size_t Store::size() const {
  std::shared_lock lk(mu_);
  return items_.size();
}

void Store::index(const std::string& key, const ObjectPtr& before, const ObjectPtr& after) {
  auto owners = [](const ObjectPtr& o) {
    std::set<std::string> s;
    if (!o) return s;
    for (const auto& r : (*o)["metadata"].value("ownerReferences", json::array()))
      s.insert(r.value("uid", ""));
    return s;
  };
  auto ns_of = [](const ObjectPtr& o) { return (*o)["metadata"].value("namespace", ""); };
  if (before) {
    auto& set = by_namespace_[ns_of(before)];
    set.erase(key);
    if (set.empty()) by_namespace_.erase(ns_of(before));
    for (const auto& u : owners(before)) {
      auto it = by_owner_.find(u);
      if (it == by_owner_.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) by_owner_.erase(it);
    }
  }
  if (after) {
    by_namespace_[ns_of(after)].insert(key);
    for (const auto& u : owners(after)) by_owner_[u].insert(key);
  }
}

ObjectPtr Store::upsert(ObjectPtr obj) {
  std::string key = object_key(*obj);
  std::unique_lock lk(mu_);
  auto& slot = items_[key];
  ObjectPtr before = slot;
  slot = obj;
  index(key, before, obj);
  return before;
}

ObjectPtr Store::erase(const std::string& key) {
  std::unique_lock lk(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr before = it->second;
  items_.erase(it);
  index(key, before, nullptr);
  return before;
}

std::vector<ObjectPtr> Store::replace(std::vector<ObjectPtr> objs) {
  std::unique_lock lk(mu_);
  std::unordered_map<std::string, ObjectPtr> fresh;
  for (auto& o : objs) fresh[object_key(*o)] = o;
  std::vector<ObjectPtr> gone;
  for (const auto& [k, v] : items_)
    if (!fresh.count(k)) gone.push_back(v);
  items_.clear();
  by_namespace_.clear();
  by_owner_.clear();
  for (auto& [k, v] : fresh) {
    items_[k] = v;
    index(k, nullptr, v);
  }
  return gone;
}

Informer::Informer(std::shared_ptr<kube::Client> client, kube::ResourceRef ref,
                   InformerOptions options)
    : client_(std::move(client)), ref_(std::move(ref)), options_(std::move(options)) {
  if (!options_.transform) options_.transform = drop_unread_fields;
}

Informer::~Informer() {
  stop();
}

void Informer::add_handlers(EventHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::clear_handlers() {
  handlers_.clear();
}

void Informer::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::request_stop() {
  stop_ = true;
  cv_.notify_all();
}

void Informer::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [this] { return synced_.load() || stop_.load(); }) && synced_;
}

std::string Informer::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

template <class Call>
void Informer::notify(const Call& call) {
  for (const auto& h : handlers_) {
    try {
      call(h);
    } catch (const std::exception& e) {
      spdlog::error("informer {}: an event handler failed: {}", ref_.resource, e.what());
    } catch (...) {
      spdlog::error("informer {}: an event handler threw a non-exception", ref_.resource);
    }
  }
}

void Informer::relist() {
  kube::ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  auto result = client_->list(ref_, options_.namespace_name, lo);
  ++lists_;
  std::vector<ObjectPtr> objs;
  objs.reserve(result.items.size());
  for (auto& item : result.items) {
    options_.transform(item);
    objs.push_back(std::make_shared<const json>(std::move(item)));
  }
  // Handlers see what changed between the cache and the fresh list.
  std::vector<std::pair<ObjectPtr, ObjectPtr>> changes;
  for (const auto& o : objs) changes.emplace_back(store_.get(object_key(*o)), o);
  auto gone = store_.replace(objs);
  resource_version_ = result.resource_version;
  for (const auto& change : changes) {
    const ObjectPtr& before = change.first;  // named, not bound: lambdas capture names
    const ObjectPtr& after = change.second;
    notify([&](const EventHandlers& h) {
      if (!before && h.on_add)
        h.on_add(after);
      else if (before && h.on_update &&
               (*before)["metadata"].value("resourceVersion", "") !=
                   (*after)["metadata"].value("resourceVersion", ""))
        h.on_update(before, after);
    });
  }
  for (const auto& o : gone)
    notify([&](const EventHandlers& h) {
      if (h.on_delete) h.on_delete(o);
    });
  if (!synced_) {
    std::lock_guard lk(mu_);
    synced_ = true;
    cv_.notify_all();
  }
}

void Informer::apply(const kube::WatchEvent& ev) {
  if (ev.type == "BOOKMARK") return;
  json obj = ev.object;
  options_.transform(obj);
  auto ptr = std::make_shared<const json>(std::move(obj));
  if (ev.type == "DELETED") {
    auto before = store_.erase(object_key(*ptr));
    notify([&](const EventHandlers& h) {
      if (h.on_delete) h.on_delete(before ? before : ptr);
    });
    return;
  }
  auto before = store_.upsert(ptr);
  notify([&](const EventHandlers& h) {
    if (!before && h.on_add)
      h.on_add(ptr);
    else if (before && h.on_update)
      h.on_update(before, ptr);
  });
}

void Informer::run() {
  // client-go's reflector: a failed or at-once-ended watch waits 0.8 s doubling to 30 s
  // (jittered, so many informers do not come back together); after a few in a row the
  // resourceVersion itself is suspect, so list again.
  constexpr int kRelistAfterFailures = 3;
  constexpr auto kShortestHealthyWatch = std::chrono::seconds(1);
  std::mt19937 rng{std::random_device{}()};
  int failures = 0;
  bool need_list = true;
  auto pause = [&](double seconds) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::duration<double>(seconds), [this] { return stop_.load(); });
  };
  while (!stop_) {
    std::string failure;
    try {
      if (need_list) {
        relist();
        need_list = false;
      }
      kube::WatchOptions wo;
      wo.label_selector = options_.label_selector;
      wo.field_selector = options_.field_selector;
      wo.idle_timeout_seconds = options_.watch_idle_timeout_seconds;
      // Jittered, so many informers do not reconnect together.
      int t = options_.watch_timeout_seconds;
      wo.timeout_seconds = t + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, t)));
      int64_t events = 0;
      auto started = std::chrono::steady_clock::now();
      auto end = kube::watch_once(
          *client_, ref_, options_.namespace_name, wo, resource_version_,
          [this, &events](const kube::WatchEvent& ev) {
            ++events;
            apply(ev);
          },
          stop_);
      switch (end) {
        case kube::WatchEnd::Expired:
          spdlog::info("informer {}: resourceVersion {} expired; listing again", ref_.resource,
                       resource_version_);
          need_list = true;
          break;
        case kube::WatchEnd::Failed:
          failure = "the watch ended with an error";
          break;
        case kube::WatchEnd::Closed:
          if (events == 0 && std::chrono::steady_clock::now() - started < kShortestHealthyWatch)
            failure = "the watch ended as soon as it was opened";
          else
            failures = 0;
          break;
        case kube::WatchEnd::Cancelled:
          break;
      }
    } catch (const kube::ApiError& e) {
      failure = e.what();
      if (e.gone()) need_list = true;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (failure.empty() || stop_) continue;
    ++failures;
    if (failures >= kRelistAfterFailures) need_list = true;
    {
      std::lock_guard lk(mu_);
      last_error_ = failure;
    }
    double delay = std::min(30.0, 0.8 * std::pow(2.0, std::min(failures - 1, 6)));
    delay *= std::uniform_real_distribution<double>(1.0, 1.5)(rng);
    spdlog::warn("informer {}: {}; retrying in {:.1f} s", ref_.resource, failure, delay);
    pause(delay);
  }
}

}  // namespace rc::runtime

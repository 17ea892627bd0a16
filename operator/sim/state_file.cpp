#include "remotecode/sim/state_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "remotecode/util/private_file.h"

namespace rc::sim {

using nlohmann::json;

namespace {

const char* kCrdStorage = "apiextensions.k8s.io/customresourcedefinitions";

std::string errno_text() {
  return std::strerror(errno);
}

bool is_crd(const json& obj) {
  return obj.value("kind", "") == "CustomResourceDefinition" &&
         obj.value("apiVersion", "").rfind("apiextensions.k8s.io/", 0) == 0;
}

}  // namespace

StateFile::StateFile(std::string path) : path_(std::move(path)) {
  std::filesystem::path p(path_);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::string lock = path_ + ".lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) throw std::runtime_error("cannot open " + lock + ": " + errno_text());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw std::runtime_error("state file " + path_ + " is in use by another simulator (it holds " +
                             lock + ")");
  }
}

StateFile::~StateFile() {
  stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::optional<size_t> StateFile::load(Store& store, TypeRegistry& types) {
  auto fail = [&](const std::string& why) {
    return std::runtime_error("state file " + path_ + ": " + why +
                              "; it was left as it is: move it away to start with an empty "
                              "cluster");
  };
  std::error_code ec;
  auto status = std::filesystem::status(path_, ec);
  if (status.type() == std::filesystem::file_type::not_found) return std::nullopt;
  if (ec) throw fail("cannot read it: " + ec.message());
  if (status.type() != std::filesystem::file_type::regular) throw fail("not a regular file");
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) throw fail("cannot read it: " + errno_text());
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::exception& e) {
    throw fail(std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("resourceVersion") ||
      !doc["resourceVersion"].is_number_unsigned() || !doc.contains("objects") ||
      !doc["objects"].is_array())
    throw fail("not a simulator state file (want {\"resourceVersion\": N, \"objects\": [...]})");
  json& objects = doc["objects"];
  // "object 3 (v1 ConfigMap default/settings)", whatever shape the object has.
  auto describe = [](size_t i, const json& o) {
    auto text = [](const json& parent, const char* key) -> std::string {
      if (!parent.is_object() || !parent.contains(key) || !parent[key].is_string()) return "?";
      return parent[key].get<std::string>();
    };
    std::string what = "object " + std::to_string(i);
    if (!o.is_object()) return what;
    const json md = o.contains("metadata") ? o["metadata"] : json::object();
    std::string ns = text(md, "namespace");
    return what + " (" + text(o, "apiVersion") + " " + text(o, "kind") + " " +
           (ns == "?" ? "" : ns) + "/" + text(md, "name") + ")";
  };
  for (size_t i = 0; i < objects.size(); ++i) {
    const json& o = objects[i];
    if (!o.is_object() || !o.contains("apiVersion") || !o["apiVersion"].is_string() ||
        !o.contains("kind") || !o["kind"].is_string() || !o.contains("metadata") ||
        !o["metadata"].is_object() || !o["metadata"].contains("name") ||
        !o["metadata"]["name"].is_string() ||
        !o["metadata"].value("namespace", json("")).is_string())
      throw fail(describe(i, o) + " lacks a string apiVersion, kind or metadata.name");
  }
  // CRDs first: their types must exist before their custom resources can be placed.
  for (size_t i = 0; i < objects.size(); ++i) {
    if (!is_crd(objects[i])) continue;
    try {
      types.add_crd(objects[i]);
    } catch (const json::exception& e) {
      throw fail(describe(i, objects[i]) + " is not a valid CustomResourceDefinition: " + e.what());
    }
  }
  std::vector<std::pair<std::string, json>> placed;
  std::set<std::pair<std::string, std::string>> seen;
  placed.reserve(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    json& o = objects[i];
    std::string api_version = o["apiVersion"];
    auto slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    std::string kind = o["kind"];
    // Any served version of the kind shares its storage.
    std::string storage_id;
    for (const auto& t : types.all())
      if (t->group == group && t->kind == kind) storage_id = t->id();
    if (storage_id.empty())
      throw fail(describe(i, o) + " is of a kind the simulator does not serve");
    const auto& md = o["metadata"];
    std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
    if (!seen.insert({storage_id, key}).second) throw fail(describe(i, o) + " appears twice");
    placed.emplace_back(storage_id, std::move(o));
  }
  uint64_t rv = doc["resourceVersion"].get<uint64_t>();
  {
    std::lock_guard lk(store.mutex());
    store.restore(rv + kRestartGap, std::move(placed));
    rv = store.current_rv();
  }
  std::lock_guard saving(save_mu_);
  saved_rv_ = rv;  // nothing to write until something changes
  return objects.size();
}

void StateFile::save(Store& store) {
  std::lock_guard saving(save_mu_);
  std::vector<ObjPtr> crds, others;
  uint64_t rv = 0;
  {
    std::lock_guard lk(store.mutex());
    rv = store.current_rv();
    if (rv == saved_rv_) return;
    for (const auto& id : store.storage_ids())
      for (auto& o : store.list(id, "")) (id == kCrdStorage ? crds : others).push_back(o);
  }
  // Stored objects never change in place: they are serialised outside the store's lock.
  std::string text = "{\"resourceVersion\": " + std::to_string(rv) + ", \"objects\": [";
  bool first = true;
  for (const auto* list : {&crds, &others})
    for (const auto& o : *list) {
      text += first ? "\n" : ",\n";
      text += o->dump();
      first = false;
    }
  text += "\n]}\n";
  util::write_private_file(path_, text);
  saved_rv_ = rv;
}

void StateFile::start(Store& store, std::chrono::milliseconds interval) {
  store_ = &store;
  stopping_ = false;
  thread_ = std::thread([this, interval] { run(interval); });
}

void StateFile::run(std::chrono::milliseconds interval) {
  std::string last_error;
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, interval, [this] { return stopping_; });
    if (stopping_) break;
    lk.unlock();
    try {
      save(*store_);
      last_error.clear();
    } catch (const std::exception& e) {
      // Said once per distinct failure; the next turn tries again.
      if (e.what() != last_error) spdlog::error("sim: state not saved: {}", e.what());
      last_error = e.what();
    }
    lk.lock();
  }
}

void StateFile::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!store_) return;
  try {
    save(*store_);
  } catch (const std::exception& e) {
    spdlog::error("sim: state not saved: {}", e.what());
  }
}

}  // namespace rc::sim

// The simulator's objects on disk (SimulatorOptions::state_file, `remote-code dev --state-dir`):
// one JSON document {"resourceVersion": N, "objects": [...]} holding every stored object, CRDs
// first. Loaded once before serving; written atomically (<file>.tmp, fsync, rename) by a thread
// at most every interval while something changed, and once more on stop. A file that cannot be
// read or parsed stops the start with an error naming it and is never overwritten.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "remotecode/sim/store.h"
#include "remotecode/sim/type_registry.h"

namespace rc::sim {

class StateFile {
 public:
  // Locks <path>.lock (two simulators must not write one file); throws std::runtime_error
  // when another process holds it or the folder cannot be created.
  explicit StateFile(std::string path);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // Loads the file into an empty store, registering stored CRDs' types before their custom
  // resources. Returns how many objects it held, or nullopt when there is no file yet.
  // Throws std::runtime_error naming the file when it cannot be read or is not a state file.
  std::optional<size_t> load(Store& store, TypeRegistry& types);
  // Writes a snapshot every `interval` while the store changes, from a thread of its own.
  void start(Store& store, std::chrono::milliseconds interval);
  // Stops that thread and writes a last snapshot when something changed since the last one.
  void stop();
  // Writes a snapshot now if the store changed since the last one; throws on I/O errors.
  void save(Store& store);
  const std::string& path() const { return path_; }

  // After a restart, the resourceVersion counter resumes this far past the stored one, so that
  // a watch from any resourceVersion handed out before (even one newer than the last snapshot
  // of a process that did not stop cleanly) gets 410 and its client lists again.
  static constexpr uint64_t kRestartGap = 1000;

 private:
  void run(std::chrono::milliseconds interval);

  std::string path_;
  int lock_fd_ = -1;
  Store* store_ = nullptr;
  std::mutex save_mu_;
  uint64_t saved_rv_ = 0;  // the store's counter at the last snapshot written or loaded
  std::mutex mu_;          // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rc::sim

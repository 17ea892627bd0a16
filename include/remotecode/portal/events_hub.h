// Fans changes of cached objects out to server-sent-event streams. Informer handlers publish;
// each stream waits on its own queue and sends only what its caller may see.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace rc::portal {

struct Change {
  std::string kind;  // "workspace", "job", "template"
  std::string type;  // ADDED, MODIFIED, DELETED
  std::string name;
  std::string namespace_name;  // "" for templates
};

class EventsHub {
 public:
  class Subscription {
   public:
    // Waits up to `timeout` for changes; returns them (empty on timeout or close).
    std::deque<Change> wait(std::chrono::milliseconds timeout);
    bool closed() const;

   private:
    friend class EventsHub;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Change> pending_;
    bool closed_ = false;
  };

  std::shared_ptr<Subscription> subscribe();
  void unsubscribe(const std::shared_ptr<Subscription>& s);
  void publish(const Change& change);
  // Wakes and closes every stream (portal shutdown).
  void close_all();
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::set<std::shared_ptr<Subscription>> subs_;
};

}  // namespace rc::portal

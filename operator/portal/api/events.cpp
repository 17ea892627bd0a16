// GET /api/v1/events: server-sent events naming each change the caller may see, so pages
// re-read only what changed instead of polling.
#include "remotecode/portal/context.h"

namespace rc::portal {

using nlohmann::json;

namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr auto kWaitSlice = std::chrono::milliseconds(500);
constexpr auto kRecheck = std::chrono::seconds(3);

// Streams per user: each holds a connection thread, so one user cannot hold many.
class StreamCounter {
 public:
  bool acquire(const std::string& user, int max) {
    std::lock_guard lk(mu_);
    int& n = open_[user];
    if (n >= max) return false;
    ++n;
    return true;
  }
  void release(const std::string& user) {
    std::lock_guard lk(mu_);
    if (--open_[user] <= 0) open_.erase(user);
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> open_;
};

}  // namespace

void add_event_routes(Router& router, Context& ctx) {
  auto counter = std::make_shared<StreamCounter>();
  router.add("GET", "/api/v1/events", Access::SignedIn, [&ctx, counter](Call& call) {
    Principal who = call.who();
    if (!counter->acquire(who.user, ctx.options.max_streams_per_user))
      throw HttpError(429, "rate_limited",
                      "too many live-update streams open; close other tabs of the portal");
    http::Response r;
    r.status = 200;
    r.set_header("Content-Type", "text/event-stream");
    r.set_header("Cache-Control", "no-store");
    r.set_header("X-Accel-Buffering", "no");  // ingress-nginx must not buffer the stream
    // Holds the slot until the stream ends (the stream function may never run if the
    // connection fails first: then the response, and this, is destroyed).
    auto slot = std::shared_ptr<void>(
        nullptr, [counter, user = who.user](void*) { counter->release(user); });
    r.stream = [&ctx, who, slot](http::ChunkSink& sink) {
      auto sub = ctx.hub.subscribe();
      struct Unsubscribe {
        Context& ctx;
        std::shared_ptr<EventsHub::Subscription> sub;
        ~Unsubscribe() { ctx.hub.unsubscribe(sub); }
      } guard{ctx, sub};
      if (!sink.write("retry: 3000\n: connected\n\n")) return;
      auto last_write = std::chrono::steady_clock::now();
      auto last_check = last_write;
      while (!sink.done() && !sub->closed()) {
        std::string out;
        for (const auto& c : sub->wait(kWaitSlice)) {
          if (c.kind != "template" && !ctx.may_see(who, c.namespace_name)) continue;
          json data = {{"type", c.type}, {"name", c.name}, {"namespace", c.namespace_name}};
          out += "event: " + c.kind + "\ndata: " + data.dump() + "\n\n";
        }
        auto now = std::chrono::steady_clock::now();
        // A signed-out (or demoted) user's stream ends within a few seconds.
        if (now - last_check >= kRecheck) {
          if (!ctx.still_valid(who)) return;
          last_check = now;
        }
        if (out.empty() && now - last_write >= kKeepAlive) out = ": keep-alive\n\n";
        if (out.empty()) continue;
        if (!sink.write(out)) return;
        last_write = now;
      }
    };
    return r;
  });
}

}  // namespace rc::portal

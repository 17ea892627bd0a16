// GET /api/v1/events: server-sent events naming each change the caller may see, so pages
// re-read only what changed instead of polling.
#include "remotecode/portal/context.h"

namespace rc::portal {

using nlohmann::json;

namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr auto kWaitSlice = std::chrono::milliseconds(500);

}  // namespace

void add_event_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/events", Access::SignedIn, [&ctx](Call& call) {
    Principal who = call.who();
    http::Response r;
    r.status = 200;
    r.set_header("Content-Type", "text/event-stream");
    r.set_header("Cache-Control", "no-store");
    r.set_header("X-Accel-Buffering", "no");  // ingress-nginx must not buffer the stream
    r.stream = [&ctx, who](http::ChunkSink& sink) {
      auto sub = ctx.hub.subscribe();
      struct Unsubscribe {
        Context& ctx;
        std::shared_ptr<EventsHub::Subscription> sub;
        ~Unsubscribe() { ctx.hub.unsubscribe(sub); }
      } guard{ctx, sub};
      if (!sink.write("retry: 3000\n: connected\n\n")) return;
      auto last_write = std::chrono::steady_clock::now();
      while (!sink.done() && !sub->closed()) {
        std::string out;
        for (const auto& c : sub->wait(kWaitSlice)) {
          if (c.kind != "template" && !ctx.may_see(who, c.namespace_name)) continue;
          json data = {{"type", c.type}, {"name", c.name}, {"namespace", c.namespace_name}};
          out += "event: " + c.kind + "\ndata: " + data.dump() + "\n\n";
        }
        auto now = std::chrono::steady_clock::now();
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

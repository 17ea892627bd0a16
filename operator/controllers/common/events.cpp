#include "remotecode/controllers/events.h"

#include <spdlog/spdlog.h>

#include "remotecode/controllers/children.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::controllers {

using nlohmann::json;

namespace {
constexpr auto kAggregateWindow = std::chrono::minutes(10);
constexpr size_t kMaxRemembered = 4096;
constexpr size_t kMaxMessage = 1024;  // the API server refuses longer event messages
}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<kube::Client> client, std::string component)
    : client_(std::move(client)), component_(std::move(component)) {}

void EventRecorder::record(const json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const json& md = object.at("metadata");
  std::string ns = md.value("namespace", "");
  if (ns.empty()) ns = "default";
  std::string text =
      message.size() > kMaxMessage ? message.substr(0, kMaxMessage - 3) + "..." : message;
  std::string key = md.value("uid", "") + "\n" + type + "\n" + reason + "\n" + text;
  std::string now = util::now_rfc3339();
  auto steady = std::chrono::steady_clock::now();

  std::string existing_name;
  int count = 1;
  {
    std::lock_guard lock(mu_);
    if (seen_.size() > kMaxRemembered) {
      for (auto it = seen_.begin(); it != seen_.end();)
        it = steady - it->second.last > kAggregateWindow ? seen_.erase(it) : std::next(it);
    }
    auto it = seen_.find(key);
    if (it != seen_.end() && steady - it->second.last < kAggregateWindow) {
      existing_name = it->second.name;
      count = ++it->second.count;
      it->second.last = steady;
    }
  }
  try {
    if (!existing_name.empty()) {
      client_->patch(refs::events(), ns, existing_name, kube::PatchType::Merge,
                     {{"count", count}, {"lastTimestamp", now}});
      return;
    }
    std::string name = md.value("name", "") + "." + util::random_hex(8);
    json event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"involvedObject",
                   {{"apiVersion", object.value("apiVersion", "")},
                    {"kind", object.value("kind", "")},
                    {"name", md.value("name", "")},
                    {"uid", md.value("uid", "")},
                    {"resourceVersion", md.value("resourceVersion", "")}}},
                  {"reason", reason},
                  {"message", text},
                  {"type", type},
                  {"source", {{"component", component_}}},
                  {"reportingComponent", component_},
                  {"reportingInstance", component_},
                  {"firstTimestamp", now},
                  {"lastTimestamp", now},
                  {"count", 1}};
    if (!md.value("namespace", "").empty()) event["involvedObject"]["namespace"] = ns;
    client_->create(refs::events(), ns, event);
    std::lock_guard lock(mu_);
    seen_[key] = Seen{name, ns, 1, steady};
  } catch (const std::exception& e) {
    // Events are for people reading `kubectl describe`; losing one must not fail a reconcile.
    spdlog::warn("could not record event {} on {}/{}: {}", reason, ns, md.value("name", ""),
                 e.what());
    if (!existing_name.empty()) {
      std::lock_guard lock(mu_);
      seen_.erase(key);  // the aggregated Event may be gone: write a new one next time
    }
  }
}

}  // namespace rc::controllers

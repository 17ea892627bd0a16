#include "remotecode/kube/watch.h"

#include <spdlog/spdlog.h>

namespace rc::kube {

using nlohmann::json;

bool LineDecoder::feed(std::string_view chunk,
                       const std::function<bool(std::string_view)>& on_line) {
  size_t start = 0;
  while (true) {
    size_t nl = chunk.find('\n', start);
    if (nl == std::string_view::npos) {
      buffer_.append(chunk.substr(start));
      return true;
    }
    std::string_view piece = chunk.substr(start, nl - start);
    start = nl + 1;
    bool keep_going;
    if (buffer_.empty()) {
      keep_going = piece.empty() || on_line(piece);
    } else {
      buffer_.append(piece);
      std::string line;
      line.swap(buffer_);
      keep_going = line.empty() || on_line(line);
    }
    if (!keep_going) return false;
  }
}

WatchEnd watch_once(Client& client, const ResourceRef& ref, const std::string& ns,
                    const WatchOptions& opts, std::string& resource_version,
                    const std::function<void(const WatchEvent&)>& on_event,
                    const std::atomic<bool>& cancel) {
  std::string q = "?watch=true&timeoutSeconds=" + std::to_string(opts.timeout_seconds);
  if (opts.bookmarks) q += "&allowWatchBookmarks=true";
  if (!resource_version.empty()) q += "&resourceVersion=" + url_escape(resource_version);
  if (!opts.label_selector.empty()) q += "&labelSelector=" + url_escape(opts.label_selector);
  if (!opts.field_selector.empty()) q += "&fieldSelector=" + url_escape(opts.field_selector);
  HttpRequest req{"GET", ref.collection_path(ns) + q};
  req.timeout_ms = 0;
  client.acquire_token();

  LineDecoder decoder;
  WatchEnd end = WatchEnd::Closed;
  std::string error_body;
  bool failed_status = false;
  HttpResponse res = client.transport().stream(
      req,
      [&](std::string_view chunk) {
        if (failed_status) {
          error_body.append(chunk);
          return true;
        }
        return decoder.feed(chunk, [&](std::string_view line) {
          json ev = json::parse(line, nullptr, false);
          if (ev.is_discarded() || !ev.is_object() || !ev.contains("type")) {
            // Not an event: a Status body of a refused watch.
            failed_status = true;
            error_body.append(line);
            return true;
          }
          WatchEvent we{ev.value("type", ""), std::move(ev["object"])};
          if (we.type == "ERROR") {
            int code = we.object.value("code", 0);
            if (code == 410) {
              end = WatchEnd::Expired;
              return false;
            }
            spdlog::warn("kube: watch {} ended with an error: {}", ref.resource,
                         we.object.value("message", ""));
            return false;
          }
          std::string rv = we.object.value("metadata", json::object()).value("resourceVersion", "");
          on_event(we);
          if (!rv.empty()) resource_version = rv;
          return !cancel.load();
        });
      },
      cancel);
  if (cancel.load()) return WatchEnd::Cancelled;
  if (res.status == 410) return WatchEnd::Expired;
  if (res.status != 200 && res.status != 0)
    throw ApiError(res.status, error_body.empty() ? res.body : error_body, "WATCH",
                   ref.collection_path(ns));
  return end;
}

}  // namespace rc::kube

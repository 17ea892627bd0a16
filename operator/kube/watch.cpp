#include "remotecode/kube/watch.h"

#include <spdlog/spdlog.h>

#include <algorithm>

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

int idle_limit_seconds(const WatchOptions& opts) {
  if (opts.idle_timeout_seconds > 0) return opts.idle_timeout_seconds;
  constexpr int kBookmarkInterval = 60;  // the apiserver's bookmark frequency
  constexpr int kMargin = 30;
  int quiet =
      opts.bookmarks ? std::min(opts.timeout_seconds, kBookmarkInterval) : opts.timeout_seconds;
  return std::max(1, quiet) + kMargin;
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
  req.idle_timeout_ms = 1000L * idle_limit_seconds(opts);

  // Everything below is per attempt: the transport streams only a 2xx body to the sink.
  LineDecoder decoder;
  WatchEnd end = WatchEnd::Closed;
  HttpResponse res = client.stream(
      req,
      [&](std::string_view chunk) {
        return decoder.feed(chunk, [&](std::string_view line) {
          json ev = json::parse(line, nullptr, false);
          if (ev.is_discarded() || !ev.is_object() || !ev.contains("type") ||
              !ev["type"].is_string() || !ev.contains("object") || !ev["object"].is_object()) {
            spdlog::warn("kube: watch {}: a line that is not an event ({} bytes); watching again",
                         ref.resource, line.size());
            end = WatchEnd::Failed;
            return false;
          }
          WatchEvent we{ev["type"].get<std::string>(), std::move(ev["object"])};
          if (we.type == "ERROR") {
            int code = we.object.value("code", 0);
            if (code == 410) {
              end = WatchEnd::Expired;
              return false;
            }
            spdlog::warn("kube: watch {} ended with an error ({}): {}", ref.resource, code,
                         we.object.value("message", ""));
            end = WatchEnd::Failed;
            return false;
          }
          std::string rv;
          if (auto md = we.object.find("metadata"); md != we.object.end() && md->is_object())
            rv = md->value("resourceVersion", "");
          on_event(we);
          if (!rv.empty()) resource_version = rv;
          return !cancel.load();
        });
      },
      cancel);
  if (cancel.load()) return WatchEnd::Cancelled;
  if (res.status == 410) return WatchEnd::Expired;
  if (res.status != 200 && res.status != 0)
    throw ApiError(res.status, res.body, "WATCH", ref.collection_path(ns));
  if (!res.stream_error.empty())
    spdlog::info("kube: watch {} from {} dropped: {}; resuming", ref.resource, resource_version,
                 res.stream_error);
  return end;
}

}  // namespace rc::kube

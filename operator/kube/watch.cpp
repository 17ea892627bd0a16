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

WatchLine decode_watch_line(std::string_view line) {
  WatchLine out;
  json ev = json::parse(line, nullptr, false);
  if (ev.is_discarded() || !ev.is_object()) return out;
  auto type = ev.find("type");
  auto object = ev.find("object");
  if (type == ev.end() || !type->is_string() || object == ev.end() || !object->is_object())
    return out;
  WatchEvent we{type->get<std::string>(), std::move(*object)};
  if (we.type == "ERROR") {
    // A Status, normally; its fields are read only when they have the type they should.
    auto code = we.object.find("code");
    if (code != we.object.end() && code->is_number_integer()) out.code = code->get<int>();
    auto message = we.object.find("message");
    if (message != we.object.end() && message->is_string()) out.message = *message;
    out.kind = out.code == 410 ? WatchLine::Kind::Expired : WatchLine::Kind::Error;
    return out;
  }
  if (auto md = we.object.find("metadata"); md != we.object.end() && md->is_object())
    if (auto rv = md->find("resourceVersion"); rv != md->end() && rv->is_string())
      out.resource_version = *rv;
  out.kind = WatchLine::Kind::Event;
  out.event = std::move(we);
  return out;
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
          WatchLine w = decode_watch_line(line);
          switch (w.kind) {
            case WatchLine::Kind::NotAnEvent:
              spdlog::warn("kube: watch {}: a line that is not an event ({} bytes); watching again",
                           ref.resource, line.size());
              end = WatchEnd::Failed;
              return false;
            case WatchLine::Kind::Expired:
              end = WatchEnd::Expired;
              return false;
            case WatchLine::Kind::Error:
              spdlog::warn("kube: watch {} ended with an error ({}): {}", ref.resource, w.code,
                           w.message);
              end = WatchEnd::Failed;
              return false;
            case WatchLine::Kind::Event:
              break;
          }
          on_event(w.event);
          if (!w.resource_version.empty()) resource_version = w.resource_version;
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

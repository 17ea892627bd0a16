// Watch streams: one JSON event per line, decoded however the bytes are split into chunks, and
// one watch request from a resourceVersion with bookmarks, a server-side timeout and a client-side
// idle limit (a half-open connection sends nothing, forever).
#pragma once
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "remotecode/kube/client.h"

namespace rc::kube {

// Splits a byte stream into lines; a line may arrive over several chunks.
class LineDecoder {
 public:
  // Calls on_line for every complete line in `chunk` (empty lines skipped); false stops.
  bool feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line);
  size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

// One line of a watch, read: an event, the 410 that ends a watch, another ERROR event, or a line
// that is not an event at all. Never throws, whatever the line holds.
struct WatchLine {
  enum class Kind { Event, Expired, Error, NotAnEvent } kind = Kind::NotAnEvent;
  WatchEvent event;              // Kind::Event
  std::string resource_version;  // the event object's, "" when it has none
  int code = 0;                  // Kind::Error: the Status code (0 when missing or not a number)
  std::string message;           // Kind::Error: the Status message
};
WatchLine decode_watch_line(std::string_view line);

enum class WatchEnd {
  Closed,     // the server ended it (timeout) or the connection dropped: resume from the last rv
  Expired,    // 410: the resourceVersion is too old; list again
  Cancelled,  // we stopped it
  Failed,     // an ERROR event other than 410, or an undecodable line: back off, then resume
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  int timeout_seconds = 300;
  bool bookmarks = true;
  // No byte for this long and the connection is taken for dead, closed, and the watch ends as
  // Closed (resume from the last resourceVersion). 0: derived, see idle_limit_seconds().
  int idle_timeout_seconds = 0;
};

// The idle limit a watch runs with: its own setting, or the longest silence a live server allows
// (a bookmark at least every minute when asked for, else the end at timeoutSeconds) plus 30 s.
int idle_limit_seconds(const WatchOptions& opts);

// One watch request from `resource_version`. Every event goes to `on_event` (BOOKMARKs too);
// `resource_version` is advanced to the last event's. Throws ApiError for a refused watch
// (other than 410) and TransportError when it could not be opened or `on_event` threw.
WatchEnd watch_once(Client& client, const ResourceRef& ref, const std::string& ns,
                    const WatchOptions& opts, std::string& resource_version,
                    const std::function<void(const WatchEvent&)>& on_event,
                    const std::atomic<bool>& cancel);

}  // namespace rc::kube

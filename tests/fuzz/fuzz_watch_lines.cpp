// Watch streams: the line decoder over any chunking, and every line read as an event. Neither
// may throw, whatever the server (or a proxy in between) sends.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "remotecode/kube/watch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the chunk size, so lines are split at every possible place.
  const size_t chunk = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  rc::kube::LineDecoder decoder;
  size_t lines = 0;
  for (size_t at = 0; at < bytes.size(); at += chunk)
    decoder.feed(bytes.substr(at, chunk), [&](std::string_view line) {
      ++lines;
      rc::kube::WatchLine w = rc::kube::decode_watch_line(line);
      if (w.kind == rc::kube::WatchLine::Kind::Event && !w.event.object.is_object())
        __builtin_trap();
      return true;
    });
  if (lines > bytes.size()) __builtin_trap();
  return 0;
}

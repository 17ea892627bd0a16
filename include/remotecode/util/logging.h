// Process-wide logging through spdlog: text or JSON lines (one object per line, message escaped)
// on stderr, so stdout stays free for the one ready line scripts wait for.
#pragma once
#include <string>

namespace rc::util {

// format: "text" or "json"; level: trace, debug, info, warn, error.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace rc::util

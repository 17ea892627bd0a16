// Wall-clock helpers in the formats Kubernetes uses (RFC 3339, seconds or microseconds).
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace rc::util {

using SystemTime = std::chrono::system_clock::time_point;

std::string rfc3339(SystemTime t);        // 2026-11-23T18:00:00Z
std::string rfc3339_micro(SystemTime t);  // 2026-11-23T18:00:00.123456Z (MicroTime)
std::string now_rfc3339();
std::optional<SystemTime> parse_rfc3339(const std::string& s);

}  // namespace rc::util

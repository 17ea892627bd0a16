#include "remotecode/util/clock.h"

#include <cstdio>
#include <ctime>

namespace rc::util {

static std::tm utc(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string rfc3339(SystemTime t) {
  std::tm tm = utc(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string rfc3339_micro(SystemTime t) {
  std::tm tm = utc(t);
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(us));
  return out;
}

std::string now_rfc3339() {
  return rfc3339(std::chrono::system_clock::now());
}

std::optional<SystemTime> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int frac_digits = 0;
  long long frac = 0;
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') {
      if (frac_digits < 6) {
        frac = frac * 10 + (*rest - '0');
        ++frac_digits;
      }
      ++rest;
    }
    while (frac_digits < 6) {
      frac *= 10;
      ++frac_digits;
    }
  }
  long offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (hh * 3600 + mm * 60) * (*rest == '+' ? 1 : -1);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest) return std::nullopt;
  std::time_t tt = timegm(&tm) - offset;
  // RFC 3339 reaches the year 9999, system_clock (nanoseconds in 64 bits) only 1677 to 2262.
  // Times past half that range (1823 to 2116) are clamped to its edge: an expiry in the year
  // 9488 is "never" all the same, and the other half is room for the sums done with times.
  using Clock = std::chrono::system_clock;
  constexpr Clock::duration kEdge = Clock::duration::max() / 2;
  constexpr auto kEdgeSeconds = std::chrono::duration_cast<std::chrono::seconds>(kEdge).count();
  if (tt >= kEdgeSeconds) return Clock::time_point(kEdge);
  if (tt <= -kEdgeSeconds) return Clock::time_point(-kEdge);
  return Clock::from_time_t(tt) + std::chrono::microseconds(frac);
}

}  // namespace rc::util

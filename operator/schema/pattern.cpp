// `pattern` matching for the schema walker, in its own file so that the warning suppression below
// covers nothing else: GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex>
// at some optimisation levels (GCC bug 105562).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <unordered_map>

#include "go_format.h"

namespace rc::schema::detail {

namespace {

struct Compiled {
  std::optional<std::regex> re;
  std::string error;
};

// Patterns compile once per process; std::regex is slow to build and safe to share read-only.
const Compiled& compiled(const std::string& pattern) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::unique_ptr<Compiled>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[pattern];
  if (!slot) {
    slot = std::make_unique<Compiled>();
    try {
      slot->re.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      slot->error = e.what();
    }
  }
  return *slot;
}

}  // namespace

std::optional<bool> pattern_search(const std::string& pattern, const std::string& value,
                                   std::string& error) {
  const Compiled& c = compiled(pattern);
  if (!c.re) {
    error = c.error;
    return std::nullopt;
  }
  return std::regex_search(value, *c.re);
}

}  // namespace rc::schema::detail

// `pattern` matching for the schema walker. RE2 speaks Go's regular expression syntax, which is
// what the apiserver uses for a CRD's `pattern`, and matches in time linear in the value without
// recursing, so a value of any length is safe to match.
#include <re2/re2.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "go_format.h"

namespace rc::schema::detail {

namespace {

std::unique_ptr<RE2> compile(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

// Patterns come from the schemas, not from the values, and compile once per process; a compiled
// RE2 is safe to share between threads.
const RE2& compiled(const std::string& pattern) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[pattern];
  if (!slot) slot = compile(pattern);
  return *slot;
}

}  // namespace

std::optional<bool> pattern_search(const std::string& pattern, const std::string& value,
                                   std::string& error) {
  const RE2& re = compiled(pattern);
  if (!re.ok()) {
    error = re.error();
    return std::nullopt;
  }
  return RE2::PartialMatch(value, re);
}

}  // namespace rc::schema::detail

// Metric lines in a training program's log (see metrics_log.h and docs/metrics.md).
//
// A line holds a metric record when "remotecode.metric" appears in it at the start or after a
// character that cannot be part of a name (so "[rank0] remotecode.metric ..." and
// "2026-01-01T00:00:00Z remotecode.metric ..." count, "myremotecode.metric" does not), followed by
// whitespace. The rest of the line is split on whitespace into name=value pairs; step=<integer>
// gives the step of every metric on the line, wherever it stands. A pair that is not well formed
// (bad name, empty value, trailing characters, inf, nan, hexadecimal, out of range) is skipped
// alone; the other pairs of the line still count.
#include <charconv>
#include <cmath>
#include <string_view>

#include "remotecode/controllers/metrics_log.h"

namespace rc::controllers {
namespace {

constexpr std::string_view kMarker = "remotecode.metric";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return is_alpha(c) || c == '_';
}
bool is_name_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '/' || c == '-';
}

bool valid_name(std::string_view s) {
  if (s.empty() || !is_name_start(s[0])) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return true;
}

// A decimal number: [+-]digits[.digits][e[+-]digits], at least one digit in the mantissa.
std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    bool negative = s[0] == '-';
    auto v = parse_number(s.substr(1));
    if (!v || s.size() < 2 || s[1] == '+' || s[1] == '-') return std::nullopt;
    return negative ? -*v : *v;
  }
  size_t i = 0, digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_step(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!is_digit(c)) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Where the pairs of a metric line start, or npos when the line is not one.
size_t pairs_start(std::string_view line) {
  for (size_t at = line.find(kMarker); at != std::string_view::npos;
       at = line.find(kMarker, at + 1)) {
    size_t end = at + kMarker.size();
    bool starts_token = at == 0 || !is_name_char(line[at - 1]);
    if (starts_token && end < line.size() && is_space(line[end])) return end;
  }
  return std::string_view::npos;
}

void parse_line(std::string_view line, std::vector<MetricPoint>& out) {
  size_t i = pairs_start(line);
  if (i == std::string_view::npos) return;
  size_t first = out.size();
  std::optional<int64_t> step;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    std::string_view token = line.substr(start, i - start);
    size_t eq = token.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = token.substr(0, eq), value = token.substr(eq + 1);
    if (name == "step") {
      if (auto s = parse_step(value)) step = s;
      continue;
    }
    if (!valid_name(name)) continue;
    if (auto v = parse_number(value)) out.push_back({std::string(name), *v, std::nullopt});
  }
  for (size_t k = first; k < out.size(); ++k) out[k].step = step;
}

}  // namespace

std::vector<MetricPoint> parse_metric_lines(const std::string& log) {
  std::vector<MetricPoint> out;
  std::string_view rest(log);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    parse_line(line, out);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

MetricSummary summarize_metrics(const std::vector<MetricPoint>& points) {
  MetricSummary s;
  for (const MetricPoint& p : points) {
    s.last[p.name] = p.value;
    if (p.step) s.step = p.step;
  }
  return s;
}

}  // namespace rc::controllers

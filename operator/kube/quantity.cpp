#include "remotecode/kube/quantity.h"

#include <cmath>
#include <cstdlib>

namespace rc::kube {

std::optional<double> parse_quantity(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  if (text[i] == '+' || text[i] == '-') ++i;
  size_t digits_start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == digits_start) return std::nullopt;
  char* end = nullptr;
  std::string number = text.substr(0, i);
  double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  std::string suffix = text.substr(i);
  static const std::pair<const char*, double> suffixes[] = {{"", 1},
                                                            {"n", 1e-9},
                                                            {"u", 1e-6},
                                                            {"m", 1e-3},
                                                            {"k", 1e3},
                                                            {"M", 1e6},
                                                            {"G", 1e9},
                                                            {"T", 1e12},
                                                            {"P", 1e15},
                                                            {"E", 1e18},
                                                            {"Ki", 1024.0},
                                                            {"Mi", 1048576.0},
                                                            {"Gi", 1073741824.0},
                                                            {"Ti", 1099511627776.0},
                                                            {"Pi", 1125899906842624.0},
                                                            {"Ei", 1152921504606846976.0}};
  for (const auto& [s, mult] : suffixes)
    if (suffix == s) return v * mult;
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    char* e2 = nullptr;
    long exp = std::strtol(suffix.c_str() + 1, &e2, 10);
    if (*e2 == '\0' && suffix.size() > 1) return v * std::pow(10.0, static_cast<double>(exp));
  }
  return std::nullopt;
}

std::optional<double> parse_quantity(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) return parse_quantity(value.get<std::string>());
  return std::nullopt;
}

std::string format_quantity(double value) {
  if (std::fabs(value - std::round(value)) < 1e-9) {
    double r = std::round(value);
    const std::pair<const char*, double> bin[] = {
        {"Ti", 1099511627776.0}, {"Gi", 1073741824.0}, {"Mi", 1048576.0}, {"Ki", 1024.0}};
    for (const auto& [s, m] : bin)
      if (r >= m && std::fmod(r, m) == 0) return std::to_string(static_cast<long long>(r / m)) + s;
    return std::to_string(static_cast<long long>(r));
  }
  return std::to_string(static_cast<long long>(std::llround(value * 1000))) + "m";
}

}  // namespace rc::kube

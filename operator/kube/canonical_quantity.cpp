// resource.Quantity's canonical text, as the apiserver stores a quantity of a built-in type:
// apimachinery's ParseQuantity (rounded up to nano) then CanonicalizeBytes. Exact decimal
// arithmetic on a 128-bit mantissa; a quantity too large for it is left as written.
#include <cstdint>

#include "remotecode/kube/quantity.h"

namespace rc::kube {

namespace {

__extension__ typedef __int128 Int;  // GCC and Clang; __extension__ keeps -Wpedantic quiet
constexpr Int kLimit = static_cast<Int>(1) << 100;  // beyond this a multiplication may overflow

enum class Format { DecimalSI, BinarySI, DecimalExponent };

struct Exact {
  bool negative = false;
  Int mantissa = 0;  // value = mantissa * 10^exponent
  int exponent = 0;
  Format format = Format::DecimalSI;
};

bool times(Int& v, Int by) {
  if (v > kLimit / by) return false;
  v *= by;
  return true;
}

std::optional<Exact> parse(const std::string& text) {
  Exact q;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) q.negative = text[i++] == '-';
  size_t digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      if (!times(q.mantissa, 10)) return std::nullopt;
      q.mantissa += c - '0';
      if (point) --q.exponent;
      ++digits;
    } else {
      break;
    }
  }
  if (digits == 0) return std::nullopt;
  std::string suffix = text.substr(i);
  static const std::pair<const char*, int> decimal[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},
                                                        {"k", 3},  {"M", 6},  {"G", 9},  {"T", 12},
                                                        {"P", 15}, {"E", 18}};
  static const std::pair<const char*, int> binary[] = {{"Ki", 1}, {"Mi", 2}, {"Gi", 3},
                                                       {"Ti", 4}, {"Pi", 5}, {"Ei", 6}};
  for (const auto& [s, e] : decimal)
    if (suffix == s) {
      q.exponent += e;
      return q;
    }
  for (const auto& [s, k] : binary)
    if (suffix == s) {
      q.format = Format::BinarySI;
      for (int n = 0; n < k; ++n)
        if (!times(q.mantissa, 1024)) return std::nullopt;
      return q;
    }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() <= 5) {
    size_t j = 1;
    bool neg = false;
    if (suffix[j] == '+' || suffix[j] == '-') neg = suffix[j++] == '-';
    if (j == suffix.size()) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return std::nullopt;
      e = e * 10 + (suffix[j] - '0');
    }
    q.exponent += neg ? -e : e;
    q.format = Format::DecimalExponent;
    return q;
  }
  return std::nullopt;
}

std::string digits_of(Int v) {
  if (v == 0) return "0";
  std::string s;
  for (; v > 0; v /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
  return s;
}

// Up to 10^scale, rounding up (away from zero), as ParseQuantity (nano) and the defaulting of
// core/v1 ResourceLists (milli) do.
void round_up(Exact& q, int scale) {
  bool inexact = false;
  while (q.exponent < scale) {
    inexact = inexact || q.mantissa % 10 != 0;
    q.mantissa /= 10;
    ++q.exponent;
  }
  if (inexact) ++q.mantissa;
}

}  // namespace

std::optional<std::string> canonical_quantity(const std::string& text, int scale) {
  auto parsed = parse(text);
  if (!parsed) return std::nullopt;
  Exact q = *parsed;
  round_up(q, scale);
  if (q.mantissa == 0) return std::string("0");
  std::string sign = q.negative ? "-" : "";

  if (q.format == Format::BinarySI) {
    // Whole numbers of at least 1024 keep a binary suffix; anything else reads as DecimalSI.
    while (q.exponent < 0 && q.mantissa % 10 == 0) {
      q.mantissa /= 10;
      ++q.exponent;
    }
    bool whole = q.exponent >= 0;
    Int value = q.mantissa;
    for (int e = 0; whole && e < q.exponent; ++e)
      if (!times(value, 10)) return std::nullopt;
    if (whole && value >= 1024) {
      static const char* suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      int k = 0;
      while (k < 6 && value % 1024 == 0) {
        value /= 1024;
        ++k;
      }
      return sign + digits_of(value) + suffixes[k];
    }
    q.format = Format::DecimalSI;
  }

  // A base-10 mantissa with an exponent that is a multiple of 3 (AsCanonicalBytes).
  while (q.mantissa % 10 == 0) {
    q.mantissa /= 10;
    ++q.exponent;
  }
  int rem = ((q.exponent % 3) + 3) % 3;
  for (int n = 0; n < rem; ++n) {
    if (!times(q.mantissa, 10)) return std::nullopt;
    --q.exponent;
  }
  std::string number = sign + digits_of(q.mantissa);
  if (q.format == Format::DecimalExponent)
    return q.exponent == 0 ? number : number + "e" + std::to_string(q.exponent);
  static const std::pair<int, const char*> si[] = {{-9, "n"}, {-6, "u"}, {-3, "m"}, {0, ""},
                                                   {3, "k"},  {6, "M"},  {9, "G"},  {12, "T"},
                                                   {15, "P"}, {18, "E"}};
  for (const auto& [e, s] : si)
    if (q.exponent == e) return number + s;
  return number + "e" + std::to_string(q.exponent);  // beyond exa: apimachinery does the same
}

}  // namespace rc::kube

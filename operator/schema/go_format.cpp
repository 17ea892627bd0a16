#include "go_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace rc::schema::detail {

using nlohmann::json;

namespace {

void append_hex_byte(std::string& out, unsigned char c) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Reads exactly n digits at s[i] into out.
bool digits(std::string_view s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) return false;
  out = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!is_digit(s[i + k])) return false;
    out = out * 10 + (s[i + k] - '0');
  }
  i += n;
  return true;
}

bool full_date(std::string_view s, size_t& i) {
  int y, m, d;
  if (!digits(s, i, 4, y) || i >= s.size() || s[i++] != '-') return false;
  if (!digits(s, i, 2, m) || i >= s.size() || s[i++] != '-') return false;
  if (!digits(s, i, 2, d)) return false;
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// strfmt's date-time accepts RFC 3339 with or without seconds, fraction and zone.
bool date_time(std::string_view s) {
  size_t i = 0;
  int h, mi, sec;
  if (!full_date(s, i) || i >= s.size() || (s[i] != 'T' && s[i] != 't')) return false;
  ++i;
  if (!digits(s, i, 2, h) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, mi)) return false;
  if (h > 23 || mi > 59) return false;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!digits(s, i, 2, sec) || sec > 60) return false;
    if (i < s.size() && s[i] == '.') {
      size_t start = ++i;
      while (i < s.size() && is_digit(s[i])) ++i;
      if (i == start) return false;
    }
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  int zh, zm;
  if (!digits(s, i, 2, zh) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, zm)) return false;
  return i == s.size() && zh <= 23 && zm <= 59;
}

bool base64_std(std::string_view s) {
  std::string clean;
  clean.reserve(s.size());
  for (char c : s)
    if (c != '\r' && c != '\n') clean.push_back(c);
  if (clean.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    char c = clean[i];
    bool alpha =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/';
    if (c == '=') {
      ++pad;
      continue;
    }
    if (!alpha || pad > 0) return false;
  }
  return pad <= 2;
}

bool ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) v = v * 10 + (s[i++] - '0');
    if (i == start || v > 255 || (i - start > 1 && s[start] == '0')) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i++] != '.' || parts == 4) return false;
  }
  return parts == 4;
}

bool ipv6(std::string_view s) {
  if (s.find(':') == std::string_view::npos || s.size() > 45) return false;
  for (char c : s)
    if (!is_hex(c) && c != ':' && c != '.') return false;
  size_t dbl = s.find("::");
  return dbl == std::string_view::npos || s.find("::", dbl + 1) == std::string_view::npos;
}

bool uuid(std::string_view s) {
  static constexpr size_t kGroups[] = {8, 4, 4, 4, 12};
  size_t i = 0;
  for (size_t g = 0; g < 5; ++g) {
    if (g > 0 && (i >= s.size() || s[i++] != '-')) return false;
    for (size_t k = 0; k < kGroups[g]; ++k)
      if (i >= s.size() || !is_hex(s[i++])) return false;
  }
  return i == s.size();
}

bool hostname(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-')
        return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool cidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash + 1 >= s.size()) return false;
  std::string_view ip = s.substr(0, slash), bits = s.substr(slash + 1);
  int b = 0;
  for (char c : bits) {
    if (!is_digit(c)) return false;
    b = b * 10 + (c - '0');
    if (b > 128) return false;
  }
  return ipv4(ip) ? b <= 32 : ipv6(ip);
}

bool mac(std::string_view s) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2) {
      if (s[i] != ':' && s[i] != '-') return false;
    } else if (!is_hex(s[i])) {
      return false;
    }
  }
  return true;
}

std::string format_int(const json& v) {
  return v.is_number_unsigned() ? std::to_string(v.get<uint64_t>())
                                : std::to_string(v.get<int64_t>());
}

}  // namespace

std::string go_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_len(s, i);
      if (n == 0) {
        append_hex_byte(out, c);
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f)
          append_hex_byte(out, c);
        else
          out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

// strconv.FormatFloat(v, 'g', -1, 64): the shortest digits, in %e form when the exponent is
// below -4 or at least 6 (shortest precision counts as 6 for that choice).
std::string go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) return s;  // to_chars already writes Go's "1.5e+06"
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::string go_json(const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        if (!first) out += ',';
        first = false;
        out += json(k).dump() + ":" + go_json(x);
      }
      return out + "}";
    }
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + go_json(v[i]);
      return out + "]";
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      double a = std::fabs(d);
      char buf[64];
      if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
        std::string s(buf, r.ptr);
        // Go writes e-07 as e-7.
        size_t e = s.find('e');
        if (e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
        return s;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      return std::string(buf, r.ptr);
    }
    default:
      return v.dump();
  }
}

std::string go_sharp_v(const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      std::string out = "map[string]interface {}{";
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        if (!first) out += ", ";
        first = false;
        out += go_quote(k) + ":" + (x.is_null() ? "interface {}(nil)" : go_sharp_v(x));
      }
      return out + "}";
    }
    case json::value_t::array: {
      std::string out = "[]interface {}{";
      for (size_t i = 0; i < v.size(); ++i)
        out += (i ? ", " : "") +
               (v[i].is_null() ? std::string("interface {}(nil)") : go_sharp_v(v[i]));
      return out + "}";
    }
    case json::value_t::string:
      return go_quote(v.get_ref<const std::string&>());
    case json::value_t::number_float:
      return go_float(v.get<double>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return format_int(v);
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    default:
      return "<nil>";
  }
}

std::string go_value(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "\"null\"";
    case json::value_t::string:
      return go_quote(v.get_ref<const std::string&>());
    case json::value_t::number_float:
      return go_float(v.get<double>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return format_int(v);
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    default:
      return go_sharp_v(v);
  }
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool format_ok(std::string_view format, std::string_view value) {
  std::string f;
  for (char c : format)
    if (c != '-') f.push_back(c);  // go-openapi normalizes "date-time" to "datetime"
  if (f == "byte") return base64_std(value);
  if (f == "datetime") return date_time(value);
  if (f == "date") {
    size_t i = 0;
    return full_date(value, i) && i == value.size();
  }
  if (f == "uuid" || f == "uuid3" || f == "uuid4" || f == "uuid5") return uuid(value);
  if (f == "ipv4") return ipv4(value);
  if (f == "ipv6") return ipv6(value);
  if (f == "cidr") return cidr(value);
  if (f == "mac") return mac(value);
  if (f == "hostname") return hostname(value);
  return true;
}

bool is_quantity(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t ndigits = 0, ndots = 0;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) {
    if (s[i] == '.')
      ++ndots;
    else
      ++ndigits;
    ++i;
  }
  if (ndigits == 0 || ndots > 1) return false;
  std::string_view suffix = s.substr(i);
  if (suffix.empty()) return true;
  static constexpr std::string_view kSuffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
                                                   "m",  "k",  "M",  "G",  "T",  "P",  "E"};
  for (auto k : kSuffixes)
    if (suffix == k) return true;
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
  if (j == suffix.size()) return false;
  for (; j < suffix.size(); ++j)
    if (!is_digit(suffix[j])) return false;
  return true;
}

}  // namespace rc::schema::detail

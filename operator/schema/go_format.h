// Private to the schema module: values printed the way Go's fmt and encoding/json print them
// (kube-apiserver messages embed them), and the light string-format checks.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace rc::schema::detail {

std::string go_quote(std::string_view s);         // strconv.Quote / %q
std::string go_float(double v);                   // %v of a float64: 1e+06, 0.5, 8
std::string go_sharp_v(const nlohmann::json& v);  // %#v of an unstructured value
std::string go_json(const nlohmann::json& v);     // encoding/json.Marshal
// field.Error.ErrorBody's rendering of a bad value (Kubernetes 1.32): numbers and bools with %v,
// strings with %q, null as "null", maps and slices with %#v.
std::string go_value(const nlohmann::json& v);

size_t rune_count(std::string_view s);  // what kube-openapi measures minLength/maxLength in

// String formats kube-openapi checks. `format` is the name as written in the schema; unknown
// formats pass.
bool format_ok(std::string_view format, std::string_view value);
// Go's regexp.MatchString (an unanchored search), with ECMAScript syntax standing in for RE2.
// nullopt when the pattern does not compile; `error` then says why.
std::optional<bool> pattern_search(const std::string& pattern, const std::string& value,
                                   std::string& error);
// resource.Quantity's syntax: "100m", "2Gi", "1e3", "0.5".
bool is_quantity(std::string_view s);

}  // namespace rc::schema::detail

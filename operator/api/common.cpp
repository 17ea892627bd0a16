#include "remotecode/api/common.h"

#include <re2/re2.h>

#include <cmath>

#include "remotecode/kube/quantity.h"

namespace rc::api {

using nlohmann::json;

namespace {

std::string join_errors(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.field.empty() ? e.message : e.field + ": " + e.message;
  }
  return out;
}

bool has_control_or_space(const std::string& s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

bool too_long(const std::string& s, size_t max_length, const std::string& field, Errors& errors) {
  if (s.size() <= max_length) return false;
  errors.add(field, "must be at most " + std::to_string(max_length) + " characters, not " +
                        std::to_string(s.size()));
  return true;
}

// A quantity field: a JSON string or number that parses, kept as text.
std::string read_quantity(const json& obj, const char* key, const std::string& path,
                          Errors& errors) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  const json& v = obj[key];
  std::string field = path + "." + key;
  if (!v.is_string() && !v.is_number()) {
    errors.add(field, "must be a quantity such as \"4\", \"500m\" or \"16Gi\"");
    return "";
  }
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  if (too_long(text, kMaxQuantityLength, field, errors)) return "";
  auto q = kube::parse_quantity(text);
  if (!q || *q < 0) {
    errors.add(field, in_quotes(text) + " is not a quantity such as \"4\", \"500m\" or \"16Gi\"");
    return "";
  }
  return text;
}

}  // namespace

SpecError::SpecError(std::string reason, std::vector<FieldError> errors)
    : std::runtime_error(join_errors(errors)),
      reason_(std::move(reason)),
      errors_(std::move(errors)) {}

void Errors::throw_if_any(const std::string& reason) const {
  if (!list_.empty()) throw SpecError(reason, list_);
}

void check_spec_size(const json& spec, Errors& errors) {
  const size_t size = spec.dump().size();
  if (size > kMaxSpecBytes)
    errors.add("spec", "is " + std::to_string(size) + " bytes as JSON; at most " +
                           std::to_string(kMaxSpecBytes) + " are allowed");
}

std::string in_quotes(const std::string& s) {
  constexpr size_t kMax = 64;
  return "\"" + (s.size() > kMax ? s.substr(0, kMax) + "..." : s) + "\"";
}

std::string read_string(const json& obj, const char* key, const std::string& path, Errors& errors,
                        const std::string& fallback, size_t max_length) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_string()) {
    errors.add(path + "." + key, "must be a string");
    return fallback;
  }
  const std::string& value = obj[key].get_ref<const std::string&>();
  too_long(value, max_length, path + "." + key, errors);
  return value;
}

std::optional<int64_t> read_int(const json& obj, const char* key, const std::string& path,
                                Errors& errors) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return std::nullopt;
  const json& v = obj[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  // A whole float within int64's range (converting one outside is undefined; fuzz_crd_specs).
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2e18 && d <= 9.2e18)
      return static_cast<int64_t>(d);
  }
  errors.add(path + "." + key, "must be an integer");
  return std::nullopt;
}

std::optional<bool> read_bool(const json& obj, const char* key, const std::string& path,
                              Errors& errors) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return std::nullopt;
  if (!obj[key].is_boolean()) {
    errors.add(path + "." + key, "must be true or false");
    return std::nullopt;
  }
  return obj[key].get<bool>();
}

std::vector<std::string> read_string_list(const json& obj, const char* key, const std::string& path,
                                          Errors& errors, size_t max_length) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return out;
  const json& v = obj[key];
  if (!v.is_array()) {
    errors.add(path + "." + key, "must be a list of strings");
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      errors.add(path + "." + key + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    const std::string& item = v[i].get_ref<const std::string&>();
    too_long(item, max_length, path + "." + key + "[" + std::to_string(i) + "]", errors);
    out.push_back(item);
  }
  return out;
}

Resources parse_resources(const json& obj, const std::string& path, Errors& errors) {
  Resources r;
  if (obj.is_null()) return r;
  if (!obj.is_object()) {
    errors.add(path, "must be an object");
    return r;
  }
  r.gpus = read_int(obj, "gpus", path, errors);
  if (r.gpus && (*r.gpus < 0 || *r.gpus > 16)) {
    errors.add(path + ".gpus", "must be between 0 and 16");
    r.gpus.reset();
  }
  r.gpu_product = read_string(obj, "gpuProduct", path, errors, "", 63);
  static const RE2 label_value(R"(^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$)");
  if (!RE2::FullMatch(r.gpu_product, label_value)) {
    errors.add(path + ".gpuProduct",
               "must be a node label value such as NVIDIA-A100-SXM4-80GB (letters, digits, "
               "'-', '_', '.'; at most 63 characters)");
    r.gpu_product.clear();
  }
  r.gpu_memory_mib = read_int(obj, "gpuMemoryMiB", path, errors);
  if (r.gpu_memory_mib && *r.gpu_memory_mib < 1) {
    errors.add(path + ".gpuMemoryMiB", "must be at least 1");
    r.gpu_memory_mib.reset();
  }
  r.cpu = read_quantity(obj, "cpu", path, errors);
  r.memory = read_quantity(obj, "memory", path, errors);
  r.home_size = read_quantity(obj, "homeSize", path, errors);
  return r;
}

Resources effective_resources(const Resources& requested, const Resources& defaults,
                              const Resources& maximum, const std::string& path, Errors& errors) {
  Resources r = defaults;
  if (requested.gpus) r.gpus = requested.gpus;
  if (!requested.gpu_product.empty()) r.gpu_product = requested.gpu_product;
  if (requested.gpu_memory_mib) r.gpu_memory_mib = requested.gpu_memory_mib;
  if (!requested.cpu.empty()) r.cpu = requested.cpu;
  if (!requested.memory.empty()) r.memory = requested.memory;
  if (!requested.home_size.empty()) r.home_size = requested.home_size;

  auto over = [&](const char* field, const std::string& have, const std::string& max) {
    if (have.empty() || max.empty()) return;
    auto h = kube::parse_quantity(have), m = kube::parse_quantity(max);
    if (h && m && *h > *m)
      errors.add(path + "." + field, have + " is more than the template's maximum of " + max);
  };
  if (r.gpus && maximum.gpus && *r.gpus > *maximum.gpus)
    errors.add(path + ".gpus", std::to_string(*r.gpus) +
                                   " is more than the template's maximum of " +
                                   std::to_string(*maximum.gpus));
  if (r.gpu_memory_mib && maximum.gpu_memory_mib && *r.gpu_memory_mib > *maximum.gpu_memory_mib)
    errors.add(path + ".gpuMemoryMiB", std::to_string(*r.gpu_memory_mib) +
                                           " is more than the template's maximum of " +
                                           std::to_string(*maximum.gpu_memory_mib));
  over("cpu", r.cpu, maximum.cpu);
  over("memory", r.memory, maximum.memory);
  over("homeSize", r.home_size, maximum.home_size);
  return r;
}

std::optional<Repository> parse_repository(const json& obj, const std::string& path,
                                           Errors& errors) {
  if (obj.is_null()) return std::nullopt;
  if (!obj.is_object()) {
    errors.add(path, "must be an object with url and ref");
    return std::nullopt;
  }
  Repository repo;
  repo.url = read_string(obj, "url", path, errors, "", 2048);
  repo.ref = read_string(obj, "ref", path, errors, "", 255);
  // Schemes git understands without running a helper program (ext:: and file:: can run
  // commands or read the node's disk, so they are not accepted).
  static const RE2 url_re(
      R"(^((https?|ssh|git)://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(/[^\s]*)?|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$)");
  if (repo.url.empty()) {
    errors.add(path + ".url", "Required value: a git URL such as https://github.com/org/repo.git");
  } else if (repo.url.front() == '-' || has_control_or_space(repo.url) ||
             !RE2::FullMatch(repo.url, url_re)) {
    errors.add(path + ".url", in_quotes(repo.url) +
                                  " is not a git URL: use https://, http://, ssh://, git:// "
                                  "or user@host:path");
  }
  // git check-ref-format, plus no leading '-' so it can never be read as an option.
  static const RE2 ref_re(R"(^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$)");
  if (!repo.ref.empty()) {
    bool bad = !RE2::FullMatch(repo.ref, ref_re) || repo.ref.find("..") != std::string::npos ||
               repo.ref.find("//") != std::string::npos ||
               repo.ref.find("@{") != std::string::npos || repo.ref.back() == '/' ||
               repo.ref.back() == '.' ||
               (repo.ref.size() >= 5 && repo.ref.compare(repo.ref.size() - 5, 5, ".lock") == 0) ||
               repo.ref.size() > 255;
    if (bad)
      errors.add(path + ".ref", in_quotes(repo.ref) +
                                    " is not a branch or tag name (letters, digits, '.', '_', "
                                    "'-', '/'; not starting with '-')");
  }
  return repo;
}

bool is_dns_label(const std::string& s) {
  static const RE2 re(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  return !s.empty() && s.size() <= 63 && RE2::FullMatch(s, re);
}

bool is_env_name(const std::string& s) {
  static const RE2 re(R"(^[-._a-zA-Z][-._a-zA-Z0-9]*$)");
  return !s.empty() && s.size() <= kMaxEnvNameLength && RE2::FullMatch(s, re);
}

bool is_image_reference(const std::string& s) {
  static const RE2 re(R"(^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$)");
  return !s.empty() && s.size() <= 512 && RE2::FullMatch(s, re);
}

}  // namespace rc::api

// The parts of our three CRD specs they share: the API group, field errors a person can act on,
// resources (GPUs, CPU, memory, home size) and git repositories, parsed from JSON once.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rc::api {

inline constexpr const char* kGroup = "remotecode.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "remotecode.dev/v1alpha1";

// One problem with a spec: the field path as kubectl prints it ("spec.build.steps[2]") and what
// is wrong, worded so the user knows what to change.
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

// Thrown by the parse_* functions. what() is "field: message; field: message", short enough for
// a condition message. reason is the CamelCase condition reason ("InvalidSpec",
// "InvalidBuildStep").
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string reason, std::vector<FieldError> errors);
  const std::string& reason() const { return reason_; }
  const std::vector<FieldError>& errors() const { return errors_; }

 private:
  std::string reason_;
  std::vector<FieldError> errors_;
};

// Collects errors while a spec is read, then throws them all at once.
class Errors {
 public:
  // The first problem of a field is the one reported: later checks of a value already found
  // wrong (a pattern after a length, say) would only repeat it.
  void add(std::string field, std::string message) {
    for (const auto& e : list_)
      if (e.field == field) return;
    list_.push_back({std::move(field), std::move(message)});
  }
  bool empty() const { return list_.empty(); }
  const std::vector<FieldError>& list() const { return list_; }
  // Throws SpecError(reason, errors) when there are any.
  void throw_if_any(const std::string& reason = "InvalidSpec") const;

 private:
  std::vector<FieldError> list_;
};

// Resources for one workspace or one job worker. Unset fields inherit (a workspace's from its
// template's defaults); quantities are kept as the user wrote them after a syntax check.
struct Resources {
  std::optional<int64_t> gpus;
  std::string gpu_product;                // value of the nvidia.com/gpu.product node label
  std::optional<int64_t> gpu_memory_mib;  // a slice of one GPU (MIG or HAMi), see --gpu-sharing
  std::string cpu;                        // Kubernetes quantity, "" unset
  std::string memory;
  std::string home_size;  // workspaces only: the home PVC's size

  bool operator==(const Resources&) const = default;
};

// Reads `obj` (may be null/absent) at field path `path` ("spec.resources").
Resources parse_resources(const nlohmann::json& obj, const std::string& path, Errors& errors);
// `requested` over `defaults`, then checked against `maximum` (each set field of maximum bounds
// the effective value); errors name `path` fields.
Resources effective_resources(const Resources& requested, const Resources& defaults,
                              const Resources& maximum, const std::string& path, Errors& errors);

struct Repository {
  std::string url;
  std::string ref;  // branch or tag; "" is the default branch
  bool operator==(const Repository&) const = default;
};

// url: https://, http://, ssh://, git:// or scp-like user@host:path; never starting with '-'
// and without whitespace or control characters. ref: git check-ref-format rules, no leading '-'.
std::optional<Repository> parse_repository(const nlohmann::json& obj, const std::string& path,
                                           Errors& errors);

// The longest string a field takes unless it says otherwise (the CRDs' maxLength agree), checked
// before any pattern so that no value is ever matched at an unbounded length.
inline constexpr size_t kMaxStringLength = 4096;
// A quantity such as 500m or 32Gi (CRDs: maxLength 64).
inline constexpr size_t kMaxQuantityLength = 64;

// Small typed readers that record a FieldError instead of throwing on a wrong type (which reads
// as the fallback) or on a string longer than max_length (kept, so that no other check takes
// the field for missing).
std::string read_string(const nlohmann::json& obj, const char* key, const std::string& path,
                        Errors& errors, const std::string& fallback = "",
                        size_t max_length = kMaxStringLength);
std::optional<int64_t> read_int(const nlohmann::json& obj, const char* key, const std::string& path,
                                Errors& errors);
std::optional<bool> read_bool(const nlohmann::json& obj, const char* key, const std::string& path,
                              Errors& errors);
std::vector<std::string> read_string_list(const nlohmann::json& obj, const char* key,
                                          const std::string& path, Errors& errors,
                                          size_t max_length = kMaxStringLength);

// The largest spec of a Workspace or TrainingJob, as JSON: every field has its own bound, but
// together they would allow megabytes per object, each kept in every cache and in etcd.
inline constexpr size_t kMaxSpecBytes = 64 * 1024;
void check_spec_size(const nlohmann::json& spec, Errors& errors);

// A user's value quoted for an error message, cut short so a long value cannot bloat the message.
std::string in_quotes(const std::string& s);

// A DNS-1123 label (names of objects we derive children from).
bool is_dns_label(const std::string& s);
// An environment variable name Kubernetes accepts ([-._a-zA-Z][-._a-zA-Z0-9]*), at most
// kMaxEnvNameLength characters.
inline constexpr size_t kMaxEnvNameLength = 256;
bool is_env_name(const std::string& s);
// A container image reference: no whitespace or control characters, no leading '-'.
bool is_image_reference(const std::string& s);

}  // namespace rc::api

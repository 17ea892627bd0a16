// Pure rendering for the Template controller: the Dockerfile ConfigMap and the Kaniko Job of a
// build, the share-link Secret, and reading a build Job's outcome. No I/O: the reconcile
// resolves every input (hash, existing share values, log tail) first.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/api/template.h"
#include "remotecode/controllers/config.h"

namespace rc::controllers::tpl {

// remotecode.dev/kind label values of a template's children.
inline constexpr const char* kBuildKind = "template-build";
inline constexpr const char* kShareKind = "template-share";
// Which build a ConfigMap or Job belongs to, so older builds can be found and cleaned up.
inline constexpr const char* kBuildHashLabel = "remotecode.dev/build-hash";
inline constexpr const char* kImageAnnotation = "remotecode.dev/image";
inline constexpr int64_t kBuildDeadlineSeconds = 3600;

// <registry>/<template name>: where every build of the template is pushed.
std::string destination_repository(const OperatorConfig& config, const std::string& template_name);
// <registry>/<template name>:<hash>
std::string built_image(const OperatorConfig& config, const std::string& template_name,
                        const std::string& hash);
// "tpl-<template name>-<first 8 of hash>": the build's ConfigMap and Job.
std::string build_object_name(const std::string& template_name, const std::string& hash);
// "tpl-<template name>-share"
std::string share_secret_name(const std::string& template_name);

// ConfigMap with key Dockerfile, in the operator's namespace.
nlohmann::json render_dockerfile_configmap(const nlohmann::json& tpl, const api::BuildSpec& build,
                                           const std::string& hash, const OperatorConfig& config);
// The Kaniko Job building the Dockerfile of `hash` and pushing it to built_image().
nlohmann::json render_build_job(const nlohmann::json& tpl, const std::string& hash,
                                const OperatorConfig& config);

// The share link's secrets; access_key is "" when the template does not require one.
struct ShareValues {
  std::string token;
  std::string access_key;
  bool operator==(const ShareValues&) const = default;
};
// The values a share Secret holds (`secret` may be null); "" for a missing or unreadable key.
ShareValues read_share_values(const nlohmann::json* secret);
nlohmann::json render_share_secret(const nlohmann::json& tpl, const ShareValues& values,
                                   const OperatorConfig& config);

enum class JobOutcome { Running, Succeeded, Failed };
// From the Job's Complete / Failed conditions (set once its pods have finished).
JobOutcome job_outcome(const nlohmann::json& job);
// The last `n` non-empty lines of a log, at most `max_chars` characters (the end is kept).
std::string last_lines(const std::string& log, size_t n, size_t max_chars = 2000);
// A failed build's condition message: which Job, why it failed, the builder's last log lines.
std::string build_failure_message(const nlohmann::json& job, const std::string& log_tail);

}  // namespace rc::controllers::tpl

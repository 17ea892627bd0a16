// Template (cluster-scoped): what a workspace or a training job is made from. Parsed from the
// custom resource once, with the build steps checked so that only RUN and ENV lines reach a
// Dockerfile.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/api/common.h"

namespace rc::api {

enum class Ide { VSCode, Jupyter, None };

struct BuildSpec {
  std::string base_image;          // "" until defaulted from the operator's --default-base-image
  std::vector<std::string> steps;  // "RUN ..." or "ENV ..." each, one line
  bool operator==(const BuildSpec&) const = default;
};

struct SharingSpec {
  bool enabled = false;
  bool require_access_key = false;
  bool operator==(const SharingSpec&) const = default;
};

struct TemplateSpec {
  std::string image;               // a ready image, or
  std::optional<BuildSpec> build;  // a build (exactly one of the two)
  std::optional<Repository> repository;
  Ide ide = Ide::VSCode;
  Resources defaults;
  Resources maximum;
  SharingSpec sharing;
};

// Throws SpecError naming every bad field (reason "InvalidBuildStep" when a build step is the
// problem, "InvalidSpec" otherwise).
TemplateSpec parse_template(const nlohmann::json& template_object);

// The image workspaces and jobs of this template run: spec.image, or status.image once the build
// of the current spec has succeeded; "" while there is none yet.
std::string template_image(const nlohmann::json& template_object);

std::string to_string(Ide ide);  // "vscode", "jupyter", "none"

// --- builds ---

// Limits that keep the Dockerfile ConfigMap small and condition messages readable. Template
// names become part of child names ("tpl-<name>-<hash8>", at most 63 characters) and labels.
inline constexpr size_t kMaxBuildSteps = 100;
inline constexpr size_t kMaxBuildStepLength = 4096;
inline constexpr size_t kMaxTemplateNameLength = 50;

// Why `step` may not go into a Dockerfile, worded for a condition message; "" when it may. A
// step is one line: RUN or ENV (any case) and its arguments, nothing that could start another
// instruction (newlines, line continuations, heredocs, comments or parser directives).
std::string build_step_problem(const std::string& step);

// The Dockerfile of a build: FROM the base image (the default when the spec names none), then
// the steps in order, one per line.
std::string dockerfile(const BuildSpec& build, const std::string& default_base_image);

// The build's image tag: the first 16 hex characters of a SHA-256 over everything that decides
// the image (effective base image, steps, the repository it is pushed to). Equal inputs give
// the same tag, so an unchanged template is never built twice.
std::string build_hash(const BuildSpec& build, const std::string& default_base_image,
                       const std::string& destination_repository);

}  // namespace rc::api

// Template (cluster-scoped): what a workspace or a training job is made from. Parsed from the
// custom resource once, with the build steps checked so that only RUN and ENV lines reach a
// Dockerfile.
#pragma once
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

}  // namespace rc::api

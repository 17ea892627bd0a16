#include "remotecode/controllers/template_status.h"

#include "remotecode/controllers/conditions.h"

namespace rc::controllers::tpl {

using nlohmann::json;

namespace {

void set_or_erase(json& status, const char* key, const std::string& value) {
  if (value.empty())
    status.erase(key);
  else
    status[key] = value;
}

void erase_condition(json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return;
  json& list = status["conditions"];
  for (auto it = list.begin(); it != list.end();)
    it = it->value("type", "") == type ? list.erase(it) : std::next(it);
}

void set(json& status, const StatusStamp& at, const std::string& type, bool ok,
         const std::string& reason, const std::string& message) {
  set_condition(status, {type, ok ? "True" : "False", reason, message}, at.generation, at.now);
}

void stamp(json& status, const std::string& phase, const StatusStamp& at) {
  if (!status.is_object()) status = json::object();
  status["phase"] = phase;
  status["observedGeneration"] = at.generation;
}

}  // namespace

void mark_invalid(json& status, const api::SpecError& error, const StatusStamp& at) {
  stamp(status, "Failed", at);
  status.erase("image");
  set(status, at, "Valid", false, error.reason(), error.what());
  set(status, at, "Ready", false, error.reason(),
      "the spec is invalid (see the Valid condition); fix it and apply it again");
}

void mark_image_ready(json& status, const std::string& image, const StatusStamp& at) {
  stamp(status, "Ready", at);
  status["image"] = image;
  status.erase("buildHash");
  status.erase("buildJob");
  erase_condition(status, "Built");
  set(status, at, "Valid", true, "Valid", "the spec is valid");
  set(status, at, "Ready", true, "ImageReady", "workspaces and jobs run " + image);
}

void mark_building(json& status, const std::string& hash, const std::string& job,
                   const StatusStamp& at) {
  stamp(status, "Building", at);
  status.erase("image");
  status["buildHash"] = hash;
  status["buildJob"] = job;
  set(status, at, "Valid", true, "Valid", "the spec is valid");
  set(status, at, "Built", false, "Building", "build Job " + job + " is running");
  set(status, at, "Ready", false, "Building",
      "the image is being built; workspaces of this template wait for it");
}

void mark_built(json& status, const std::string& image, const std::string& hash,
                const std::string& job, const StatusStamp& at) {
  stamp(status, "Ready", at);
  status["image"] = image;
  status["buildHash"] = hash;
  set_or_erase(status, "buildJob", job);
  set(status, at, "Valid", true, "Valid", "the spec is valid");
  set(status, at, "Built", true, "BuildSucceeded", "built and pushed " + image);
  set(status, at, "Ready", true, "BuildSucceeded", "workspaces and jobs run " + image);
}

void mark_build_failed(json& status, const std::string& hash, const std::string& job,
                       const std::string& message, const StatusStamp& at) {
  stamp(status, "Failed", at);
  status.erase("image");
  status["buildHash"] = hash;
  status["buildJob"] = job;
  set(status, at, "Valid", true, "Valid", "the spec is valid");
  set(status, at, "Built", false, "BuildFailed", message);
  set(status, at, "Ready", false, "BuildFailed",
      "the build failed (see the Built condition); change the steps, or delete Job " + job +
          " to build again");
}

void set_share_secret(json& status, const std::string& secret_name) {
  set_or_erase(status, "shareSecret", secret_name);
}

}  // namespace rc::controllers::tpl

// Workspace (namespaced): one person's browser IDE made from a Template. Parsed from the custom
// resource once; resources are checked against the template later, when it is known.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/api/common.h"

namespace rc::api {

// Children add suffixes ("-home") to the workspace's name and must stay DNS labels (<= 63).
inline constexpr size_t kMaxWorkspaceNameLength = 50;
// A year: longer is "never" (0), and minutes beyond this overflow the arithmetic of times.
inline constexpr int64_t kMaxIdleTimeoutMinutes = 525600;

enum class HomeRetention { Delete, Retain };

struct WorkspaceSpec {
  std::string template_name;
  std::string owner;  // the portal user; "" for workspaces made with kubectl
  bool running = true;
  Resources resources;               // as requested; unset fields inherit the template's defaults
  int64_t idle_timeout_minutes = 0;  // 0: never stopped for idleness
  HomeRetention home_retention = HomeRetention::Delete;

  bool operator==(const WorkspaceSpec&) const = default;
};

// Reads metadata.name and spec. Throws SpecError (reason "InvalidSpec") naming every bad field.
WorkspaceSpec parse_workspace(const nlohmann::json& workspace_object);

std::string to_string(HomeRetention retention);  // "Delete", "Retain"

}  // namespace rc::api

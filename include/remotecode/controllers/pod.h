// The pod-level rules shared by workspaces and training jobs: GPU requests mapped onto the
// configured sharing mode, the product selector and the GPU taint's toleration, and a
// restricted security context (non-root, RuntimeDefault seccomp, no privilege escalation, no
// capabilities).
#pragma once
#include <nlohmann/json.hpp>

#include "remotecode/api/common.h"
#include "remotecode/controllers/config.h"

namespace rc::controllers {

inline constexpr const char* kGpuResource = "nvidia.com/gpu";
inline constexpr const char* kGpuProductLabel = "nvidia.com/gpu.product";
inline constexpr int64_t kRunAsUser = 1000;

// The extended resources a container needs for `r` (e.g. {"nvidia.com/gpu":"2"} or
// {"nvidia.com/mig-2g.20gb":"1"} or HAMi's {"nvidia.com/gpu":"1","nvidia.com/gpumem":"8192"}).
// Empty when no GPUs are asked for.
nlohmann::json gpu_limits(const api::Resources& r, const OperatorConfig& config);

// container.resources: requests and limits for cpu and memory as given, GPU limits from
// gpu_limits.
nlohmann::json container_resources(const api::Resources& r, const OperatorConfig& config);

// Adds the product nodeSelector and the nvidia.com/gpu toleration to a pod spec when `r` asks
// for GPUs.
void add_gpu_scheduling(nlohmann::json& pod_spec, const api::Resources& r);

// securityContext for pods and containers (restricted Pod Security Standard).
nlohmann::json pod_security_context();
nlohmann::json container_security_context();

}  // namespace rc::controllers

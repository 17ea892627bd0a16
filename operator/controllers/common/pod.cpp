#include "remotecode/controllers/pod.h"

#include <cstdlib>

namespace rc::controllers {

using nlohmann::json;

namespace {

// "3g.40gb" -> 40 * 1024 MiB; 0 when the profile name has no "<n>gb" part.
int64_t mig_profile_mib(const std::string& profile) {
  auto dot = profile.find('.');
  if (dot == std::string::npos) return 0;
  return std::atoll(profile.c_str() + dot + 1) * 1024;
}

bool wants_gpu(const api::Resources& r) {
  return r.gpus.value_or(0) > 0 || r.gpu_memory_mib.has_value();
}

}  // namespace

json gpu_limits(const api::Resources& r, const OperatorConfig& config) {
  json out = json::object();
  if (!wants_gpu(r)) return out;
  int64_t count = std::max<int64_t>(r.gpus.value_or(0), 1);
  if (r.gpu_memory_mib && config.gpu_sharing == GpuSharing::Mig) {
    for (const auto& profile : config.mig_profiles) {
      if (mig_profile_mib(profile) >= *r.gpu_memory_mib) {
        out["nvidia.com/mig-" + profile] = std::to_string(count);
        return out;
      }
    }
    // No slice is large enough: a whole GPU is the smallest thing that fits.
  }
  out[kGpuResource] = std::to_string(count);
  if (r.gpu_memory_mib && config.gpu_sharing == GpuSharing::Hami)
    out["nvidia.com/gpumem"] = std::to_string(*r.gpu_memory_mib);
  return out;
}

json container_resources(const api::Resources& r, const OperatorConfig& config) {
  json requests = json::object(), limits = gpu_limits(r, config);
  if (!r.cpu.empty()) requests["cpu"] = r.cpu;
  if (!r.memory.empty()) {
    requests["memory"] = r.memory;
    limits["memory"] = r.memory;  // memory is not compressible: a limit keeps a node healthy
  }
  json out = json::object();
  if (!requests.empty()) out["requests"] = requests;
  if (!limits.empty()) out["limits"] = limits;
  return out;
}

void add_gpu_scheduling(json& pod_spec, const api::Resources& r) {
  if (!wants_gpu(r)) return;
  if (!r.gpu_product.empty()) pod_spec["nodeSelector"][kGpuProductLabel] = r.gpu_product;
  pod_spec["tolerations"] =
      json::array({{{"key", kGpuResource}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
}

json pod_security_context() {
  return {{"runAsNonRoot", true},
          {"runAsUser", kRunAsUser},
          {"runAsGroup", kRunAsUser},
          {"fsGroup", kRunAsUser},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json container_security_context() {
  return {{"allowPrivilegeEscalation", false},
          {"runAsNonRoot", true},
          {"capabilities", {{"drop", json::array({"ALL"})}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

}  // namespace rc::controllers

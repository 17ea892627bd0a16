// GET /api/v1/usage: GPUs in use against each user's quota, and GPU-hours over the last day,
// week and month, from the cached objects' status.
#include <cmath>

#include "remotecode/api/template.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/kube/quantity.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/usage.h"

namespace rc::portal {

using nlohmann::json;

namespace {

double quota_gpus(const Context& ctx, const std::string& ns) {
  auto q = ctx.informers.quotas->store().get(ns + "/remote-code");
  if (!q) return 0;
  auto hard = q->value("spec", json::object()).value("hard", json::object());
  auto v = kube::parse_quantity(hard.value("requests.nvidia.com/gpu", json("0")));
  return v.value_or(0);
}

// The GPUs one worker asks for: its own resources, else its template's defaults.
double gpus_per_worker(const Context& ctx, const json& job) {
  try {
    auto spec = api::parse_trainingjob(job);
    if (spec.resources.gpus) return static_cast<double>(*spec.resources.gpus);
    if (!spec.template_name.empty())
      if (auto tpl = ctx.informers.templates->store().get(spec.template_name))
        if (auto gpus = api::parse_template(*tpl).defaults.gpus) return static_cast<double>(*gpus);
  } catch (const std::exception&) {
    // An invalid job never ran.
  }
  return 0;
}

json user_usage(const Context& ctx, const std::string& user, util::SystemTime now) {
  std::string ns = ctx.users->namespace_of(user);
  UsageInput in;
  for (const auto& ws : ctx.informers.workspaces->store().list_namespace(ns))
    in.workspaces.push_back(*ws);
  for (const auto& job : ctx.informers.trainingjobs->store().list_namespace(ns)) {
    in.jobs.push_back(*job);
    in.job_gpus_per_worker.push_back(gpus_per_worker(ctx, *job));
  }
  GpuUsage u = compute_usage(in, now);
  auto round2 = [](double h) { return std::round(h * 100) / 100; };
  return {{"user", user},
          {"namespace", ns},
          {"gpusInUse", u.gpus_in_use},
          {"gpuQuota", quota_gpus(ctx, ns)},
          {"gpuHours",
           {{"day", round2(u.hours_day)},
            {"week", round2(u.hours_week)},
            {"month", round2(u.hours_month)}}}};
}

}  // namespace

void add_usage_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/usage", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    auto now = std::chrono::system_clock::now();
    json users = json::array();
    if (call.who().admin()) {
      for (const auto& u : ctx.users->list()) users.push_back(user_usage(ctx, u.username, now));
    } else {
      users.push_back(user_usage(ctx, call.who().user, now));
    }
    return json_response(200, {{"users", users}});
  });
}

}  // namespace rc::portal

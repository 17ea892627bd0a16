// Training jobs: submit, list with filters, stop, delete, per-pod logs and metric series.
#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/children.h"
#include "remotecode/controllers/metrics_log.h"
#include "remotecode/controllers/trainingjob_render.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/objects.h"
#include "remotecode/util/clock.h"

namespace rc::portal {

using nlohmann::json;
namespace tj = controllers::trainingjob;

namespace {

constexpr int64_t kDefaultTail = 1000;
constexpr int64_t kMaxTail = 10000;

void validate_job(const json& obj) {
  api::parse_trainingjob(obj);
}

// The image a template gives its workspaces and runs: a built one once its build is done.
std::string template_image(const json& tpl) {
  std::string built = tpl.value("status", json::object()).value("image", "");
  return built.empty() ? tpl.value("spec", json::object()).value("image", "") : built;
}

// What only admins may do with a job: jump the cluster-wide queue, and (unless the portal lets
// anyone) run an image that is not the image of a template the user may use, so that an access
// key guards a template's image as well as its name.
void check_users_job(const Context& ctx, const json& spec) {
  const json priority = spec.value("priority", json());
  if (priority.is_number_integer() && priority.get<int64_t>() > 0)
    throw forbidden("spec.priority: only an admin sets a priority above 0");
  std::string image = spec.value("image", "");
  if (image.empty() || ctx.options.allow_any_image) return;
  for (const auto& tpl : ctx.informers.templates->store().list())
    if (!requires_access_key(*tpl) && template_image(*tpl) == image) return;
  throw forbidden(
      "spec.image: you may run only the images of templates; choose a template, "
      "or ask an admin to start the portal with --allow-any-image");
}

struct JobPod {
  runtime::ObjectPtr pod;
  int run = 0;
  int rank = 0;
};

// The job's pods, by run then rank then age (newest attempt last).
std::vector<JobPod> job_pods(const Context& ctx, const std::string& ns, const std::string& name) {
  std::vector<JobPod> out;
  for (const auto& pod : ctx.informers.pods->store().list_namespace(ns)) {
    const json labels = pod->at("metadata").value("labels", json::object());
    if (labels.value(controllers::kKindLabel, "") != tj::kKindLabelValue ||
        labels.value(controllers::kNameLabel, "") != name)
      continue;
    JobPod p{pod};
    try {
      p.run = std::stoi(labels.value(tj::kRunLabel, "0"));
      p.rank = std::stoi(labels.value(tj::kCompletionIndexAnnotation, "0"));
    } catch (const std::exception&) {
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const JobPod& a, const JobPod& b) {
    return std::tuple(a.run, a.rank, a.pod->at("metadata").value("creationTimestamp", "")) <
           std::tuple(b.run, b.rank, b.pod->at("metadata").value("creationTimestamp", ""));
  });
  return out;
}

json job_view(const Context& ctx, const json& job) {
  json view = object_view(job);
  json pods = json::array();
  for (const auto& p : job_pods(ctx, view["namespace"], view["name"]))
    pods.push_back({{"name", p.pod->at("metadata").value("name", "")},
                    {"run", p.run},
                    {"rank", p.rank},
                    {"phase", p.pod->value("status", json::object()).value("phase", "Pending")}});
  view["pods"] = pods;
  return view;
}

bool matches_filters(const json& job, const http::Request& req) {
  json status = job.value("status", json::object());
  if (auto phase = req.param("status"); phase && !phase->empty())
    if (status.value("phase", "Pending") != *phase) return false;
  if (auto name = req.param("name"); name && !name->empty())
    if (job.at("metadata").value("name", "").find(*name) == std::string::npos) return false;
  if (auto since = req.param("since"); since && !since->empty()) {
    auto t = util::parse_rfc3339(*since);
    if (!t) throw bad_request("since: not an RFC 3339 time (2026-11-23T18:00:00Z)");
    auto created = util::parse_rfc3339(job.at("metadata").value("creationTimestamp", ""));
    if (!created || *created < *t) return false;
  }
  return true;
}

int64_t tail_lines(const http::Request& req) {
  auto tail = req.param("tail");
  if (!tail || tail->empty()) return kDefaultTail;
  try {
    size_t used = 0;
    int64_t n = std::stoll(*tail, &used);
    if (used == tail->size() && n > 0) return std::min(n, kMaxTail);
  } catch (const std::exception&) {
  }
  throw bad_request("tail: must be a positive number of lines");
}

std::string pod_log(const Context& ctx, const std::string& ns, const std::string& pod,
                    int64_t tail) {
  try {
    return ctx.client->logs(ns, pod, tj::kContainerName, tail);
  } catch (const kube::ApiError& e) {
    if (e.code() == 400 || e.not_found()) return "";  // not started yet, or already gone
    throw;
  }
}

}  // namespace

void add_job_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/jobs", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    if (auto since = call.request.param("since"); since && !since->empty())
      if (!util::parse_rfc3339(*since))
        throw bad_request("since: not an RFC 3339 time (2026-11-23T18:00:00Z)");
    std::vector<runtime::ObjectPtr> jobs;
    for (auto& j : visible_objects(ctx, call, *ctx.informers.trainingjobs))
      if (matches_filters(*j, call.request)) jobs.push_back(j);
    return json_response(200, list_view(std::move(jobs)));
  });

  router.add("POST", "/api/v1/jobs", Access::SignedIn, [&ctx](Call& call) {
    std::string ns = ctx.target_namespace(call);
    json obj = object_from_body(json_body(call.request), "TrainingJob", ns,
                                api::kMaxTrainingJobNameLength, validate_job);
    const json& spec = obj.at("spec");
    if (!call.who().admin()) {
      ctx.require_synced();
      check_users_job(ctx, spec);
    }
    if (std::string tpl = spec.value("template", ""); !tpl.empty())
      check_against_template(ctx, tpl, spec.value("resources", json()), false, call.who().admin());
    return json_response(
        201, object_view(ctx.client->create(controllers::refs::trainingjobs(), ns, obj)));
  });

  router.add("GET", "/api/v1/jobs/{name}", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    auto job = cached_or_404(*ctx.informers.trainingjobs, ctx.target_namespace(call),
                             call.param("name"), "job");
    return json_response(200, job_view(ctx, *job));
  });

  router.add("DELETE", "/api/v1/jobs/{name}", Access::SignedIn, [&ctx](Call& call) {
    std::string ns = ctx.target_namespace(call);
    cached_or_404(*ctx.informers.trainingjobs, ns, call.param("name"), "job");
    ctx.client->remove(controllers::refs::trainingjobs(), ns, call.param("name"));
    http::Response r;
    r.status = 204;
    return r;
  });

  // Stop suspends the job (running runs end, the rest stay queued); resume lets it go on,
  // unfinished runs starting from the beginning.
  for (auto route : {std::pair{"stop", true}, std::pair{"resume", false}}) {
    router.add("POST", std::string("/api/v1/jobs/{name}/") + route.first, Access::SignedIn,
               [&ctx, suspend = route.second](Call& call) {
                 std::string ns = ctx.target_namespace(call);
                 cached_or_404(*ctx.informers.trainingjobs, ns, call.param("name"), "job");
                 json patched =
                     ctx.client->patch(controllers::refs::trainingjobs(), ns, call.param("name"),
                                       kube::PatchType::Merge, {{"spec", {{"suspend", suspend}}}});
                 return json_response(200, job_view(ctx, patched));
               });
  }

  router.add("GET", "/api/v1/jobs/{name}/logs", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    std::string ns = ctx.target_namespace(call);
    cached_or_404(*ctx.informers.trainingjobs, ns, call.param("name"), "job");
    int64_t tail = tail_lines(call.request);
    auto pods = job_pods(ctx, ns, call.param("name"));
    std::string wanted = call.request.param("pod").value_or("");
    std::string pod;
    for (const auto& p : pods) {
      std::string name = p.pod->at("metadata").value("name", "");
      if (wanted.empty() ? (p.run == 0 && p.rank == 0) : name == wanted) pod = name;
    }
    if (pod.empty())
      throw not_found(wanted.empty() ? "the job has no pod yet"
                                     : "pod " + wanted + " is not a pod of this job");
    auto r = http::Response::text(200, pod_log(ctx, ns, pod, tail), "text/plain; charset=utf-8");
    r.set_header("Cache-Control", "no-store");
    return r;
  });

  router.add("GET", "/api/v1/jobs/{name}/metrics", Access::SignedIn, [&ctx](Call& call) {
    ctx.require_synced();
    std::string ns = ctx.target_namespace(call);
    auto job = cached_or_404(*ctx.informers.trainingjobs, ns, call.param("name"), "job");
    auto pods = job_pods(ctx, ns, call.param("name"));
    json runs = json::array();
    for (const auto& run : job->value("status", json::object()).value("runs", json::array())) {
      int index = run.value("index", 0);
      std::string rank0;  // the newest attempt's rank-0 pod (pods are sorted oldest first)
      for (const auto& p : pods)
        if (p.run == index && p.rank == 0) rank0 = p.pod->at("metadata").value("name", "");
      json series = json::object();
      if (!rank0.empty()) {
        int64_t ordinal = 0;
        for (const auto& point :
             controllers::parse_metric_lines(pod_log(ctx, ns, rank0, kMaxTail))) {
          int64_t step = point.step.value_or(ordinal);
          series[point.name].push_back(json::array({step, point.value}));
          ++ordinal;
        }
      }
      runs.push_back({{"name", run.value("name", "")},
                      {"index", index},
                      {"parameters", run.value("values", json::object())},
                      {"phase", run.value("phase", "Queued")},
                      {"series", series}});
    }
    return json_response(200, {{"runs", runs}});
  });
}

}  // namespace rc::portal

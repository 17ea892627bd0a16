// A TrainingJob's children as pure functions of its spec, its resolved inputs and the operator's
// configuration: one Job per run ("<tj>-<i>", created suspended for the queue to admit) and, for
// multi-worker runs, a headless Service giving the workers stable names. No I/O.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/api/trainingjob.h"
#include "remotecode/controllers/config.h"

namespace rc::controllers::trainingjob {

inline constexpr const char* kKindLabelValue = "trainingjob";   // remotecode.dev/kind on children
inline constexpr const char* kRunLabel = "remotecode.dev/run";  // the run index, on Jobs and pods
// Hash of the rendered Job: a queued run whose inputs changed is re-created (a Job's pod
// template cannot be changed once created).
inline constexpr const char* kSpecHashAnnotation = "remotecode.dev/spec-hash";
inline constexpr const char* kContainerName = "trainer";
inline constexpr const char* kSourcePath = "/src";
inline constexpr const char* kHomePath = "/home/coder";
inline constexpr const char* kDatasetsPath = "/data";
inline constexpr int kMasterPort = 29500;
// The pod annotation (and label) of an Indexed Job's completion index: the worker's rank.
inline constexpr const char* kCompletionIndexAnnotation =
    "batch.kubernetes.io/job-completion-index";

// Everything the children are rendered from, resolved by the reconcile.
struct RenderInput {
  api::TrainingJobSpec spec;
  api::Resources resources;       // per worker: the spec over the template's defaults
  std::string image;              // spec.image or the template's image
  bool datasets_present = false;  // the PVC config.datasets_claim exists in the namespace
};

std::string run_name(const std::string& trainingjob_name, int index);  // "<tj>-<index>"

// The Job of one run, with spec.suspend true: this is what is created. `trainingjob` is the
// TrainingJob object (name, namespace, uid for the owner reference).
nlohmann::json render_run_job(const nlohmann::json& trainingjob, const RenderInput& in,
                              const api::SweepRun& run, const OperatorConfig& config);

// What is server-side applied to an existing Job: the rendered Job without spec.suspend. The
// queue owns suspend (it admits by patching it to false, Stop patches it to true); leaving it out
// of every apply means our apply never owns it, so an apply can neither re-suspend an admitted
// Job nor, by dropping a field it owned, unsuspend a waiting one.
nlohmann::json job_for_apply(const nlohmann::json& rendered_job);

// The headless Service of a multi-worker run (workers resolve each other as
// <job>-<rank>.<job>); nullopt for a single worker.
std::optional<nlohmann::json> render_run_service(const nlohmann::json& trainingjob,
                                                 const RenderInput& in, const api::SweepRun& run);

}  // namespace rc::controllers::trainingjob

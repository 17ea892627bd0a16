// TrainingJob (namespaced): a batch run of user code on GPUs, optionally a sweep of parameter
// combinations, each combination one run (one Job). Parsed from the custom resource once, with
// every user value that later reaches a container (git URL and ref, paths, env names) checked.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "remotecode/api/common.h"

namespace rc::api {

// A name of at most this length leaves room for "-<run>" and for the pod names the Job
// controller derives ("<job>-<index>-<random>") within the 63 characters of a DNS label.
inline constexpr size_t kMaxTrainingJobNameLength = 50;
inline constexpr int64_t kMaxSweepRuns = 100;
// An environment variable's value (the CRD's maxLength agrees).
inline constexpr size_t kMaxEnvValueLength = 32768;
inline constexpr int64_t kMaxWorkers = 64;
inline constexpr int64_t kMaxRetries = 20;
// Priorities order the cluster-wide queue; the portal lets only admins go above the default 0.
inline constexpr int64_t kMinPriority = -1000;
inline constexpr int64_t kMaxPriority = 1000;
// Kubernetes caps a Job's own TTL at int32 seconds; so do we, which keeps the sums of times
// far from overflowing.
inline constexpr int64_t kMaxTtlSecondsAfterFinished = 2147483647;
// Environment the operator sets for multi-worker runs; users may not set them.
inline constexpr const char* kReservedEnvNames[] = {"MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE",
                                                    "RANK"};

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct GitSource {
  Repository repository;
  std::string path;  // subdirectory to run in, relative; "" is the repository's root
  bool operator==(const GitSource&) const = default;
};

// The home volume of a Workspace in the same namespace (its PVC "<name>-home").
struct WorkspaceSource {
  std::string name;
  std::string path;  // relative to the home
  bool operator==(const WorkspaceSource&) const = default;
};

struct ConfigMapSource {
  std::string name;
  bool operator==(const ConfigMapSource&) const = default;
};

struct SweepParameter {
  std::string name;  // passed as an environment variable of this name
  std::vector<std::string> values;
  bool operator==(const SweepParameter&) const = default;
};

struct TrainingJobSpec {
  std::string template_name;     // the image (and default resources) come from this Template, or
  std::string image;             // from this image (exactly one of the two)
  std::optional<GitSource> git;  // at most one source
  std::optional<WorkspaceSource> workspace;
  std::optional<ConfigMapSource> config_map;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  Resources resources;  // per worker, as written (template defaults are applied later)
  int64_t workers = 1;
  int64_t retries = 0;
  std::optional<int64_t> deadline_seconds;
  std::optional<int64_t> ttl_seconds_after_finished;
  int64_t priority = 0;
  bool suspend = false;
  std::vector<SweepParameter> sweep;
  std::vector<std::string> notify_email;
};

// Throws SpecError (reason "InvalidSpec") naming every bad field, the object's name included.
TrainingJobSpec parse_trainingjob(const nlohmann::json& trainingjob_object);

// One combination of sweep values: run `index` gets these (parameter, value) pairs, in the order
// the parameters are declared.
struct SweepRun {
  int index = 0;
  std::vector<std::pair<std::string, std::string>> values;
  bool operator==(const SweepRun&) const = default;
};

// Every combination (the cartesian product, the first parameter varying slowest). A spec without
// a sweep has exactly one run, without values.
std::vector<SweepRun> sweep_combinations(const TrainingJobSpec& spec);

// `args` with each "$(name)" of a parameter of `run` replaced by its value. Kubernetes expands
// "$(VAR)" in args once more (from the container's env), so '$' in an inserted value is written
// as "$$", which Kubernetes turns back into one '$': the value arrives exactly as given. "$$(x)"
// is Kubernetes' escape for a literal "$(x)" and is left alone.
std::vector<std::string> substitute_args(const std::vector<std::string>& args, const SweepRun& run);

}  // namespace rc::api

#include "remotecode/api/trainingjob.h"

#include <re2/re2.h>
#include <set>

namespace rc::api {

using nlohmann::json;

namespace {

// Service names (the headless Service of a multi-worker run is named after the job) must be
// DNS-1035 labels: a letter first.
void check_name(const json& obj, Errors& errors) {
  const json md = obj.value("metadata", json::object());
  std::string name = md.value("name", "");
  static const RE2 dns1035(R"(^[a-z]([-a-z0-9]*[a-z0-9])?$)");
  if (name.size() > kMaxTrainingJobNameLength || !RE2::FullMatch(name, dns1035))
    errors.add("metadata.name", in_quotes(name) + " must be at most " +
                                    std::to_string(kMaxTrainingJobNameLength) +
                                    " lower-case letters, digits and '-', starting with a "
                                    "letter: its runs are named <name>-<run>");
}

// A Kubernetes object name (DNS-1123 subdomain), as ConfigMaps and Templates are named.
bool is_object_name(const std::string& s) {
  static const RE2 re(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return !s.empty() && s.size() <= 253 && RE2::FullMatch(s, re);
}

// A directory inside the source: relative, without ".." (which could leave the volume) and
// without control characters. It becomes workingDir, never a shell word.
void check_relative_path(const std::string& path, const std::string& field, Errors& errors) {
  if (path.empty()) return;
  bool bad = path.front() == '/' || path.size() > 1024;
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) bad = true;
  size_t start = 0;
  while (!bad && start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) bad = true;
    start = end + 1;
  }
  if (bad)
    errors.add(field, in_quotes(path) +
                          " must be a relative directory inside the source (no leading '/', "
                          "no '..')");
}

std::string read_path(const json& obj, const std::string& path, Errors& errors) {
  std::string value = read_string(obj, "path", path, errors);
  check_relative_path(value, path + ".path", errors);
  return value;
}

void read_source(const json& spec, TrainingJobSpec& out, Errors& errors) {
  if (!spec.contains("source") || spec["source"].is_null()) return;
  const json& source = spec["source"];
  if (!source.is_object()) {
    errors.add("spec.source", "must be an object with one of git, workspace, configMap");
    return;
  }
  int kinds = 0;
  for (const char* k : {"git", "workspace", "configMap"})
    if (source.contains(k) && !source[k].is_null()) ++kinds;
  if (kinds != 1) {
    errors.add("spec.source", "give exactly one of git, workspace, configMap");
    return;
  }
  if (source.contains("git") && !source["git"].is_null()) {
    if (auto repo = parse_repository(source["git"], "spec.source.git", errors))
      out.git = GitSource{*repo, read_path(source["git"], "spec.source.git", errors)};
  } else if (source.contains("workspace") && !source["workspace"].is_null()) {
    const json& ws = source["workspace"];
    WorkspaceSource w;
    w.name = read_string(ws, "name", "spec.source.workspace", errors);
    if (!is_dns_label(w.name))
      errors.add("spec.source.workspace.name",
                 in_quotes(w.name) + " is not a Workspace name (kubectl get workspaces)");
    w.path = read_path(ws, "spec.source.workspace", errors);
    out.workspace = w;
  } else {
    ConfigMapSource c;
    c.name = read_string(source["configMap"], "name", "spec.source.configMap", errors);
    if (!is_object_name(c.name))
      errors.add("spec.source.configMap.name", in_quotes(c.name) + " is not a ConfigMap name");
    out.config_map = c;
  }
}

// Names the container sees as environment variables: valid, unique, and not ours.
class EnvNames {
 public:
  void check(const std::string& name, const std::string& field, Errors& errors) {
    if (!is_env_name(name)) {
      errors.add(field, in_quotes(name) +
                            " is not an environment variable name (letters, digits, '_', "
                            "'-', '.'; not starting with a digit)");
      return;
    }
    for (const char* reserved : kReservedEnvNames)
      if (name == reserved) {
        errors.add(field, name + " is set by the operator for multi-worker runs");
        return;
      }
    if (!seen_.insert(name).second) errors.add(field, name + " is given more than once");
  }

 private:
  std::set<std::string> seen_;
};

std::vector<EnvVar> read_env(const json& spec, EnvNames& names, Errors& errors) {
  std::vector<EnvVar> out;
  if (!spec.contains("env") || spec["env"].is_null()) return out;
  if (!spec["env"].is_array()) {
    errors.add("spec.env", "must be a list of {name, value}");
    return out;
  }
  for (size_t i = 0; i < spec["env"].size(); ++i) {
    std::string path = "spec.env[" + std::to_string(i) + "]";
    const json& e = spec["env"][i];
    if (!e.is_object()) {
      errors.add(path, "must be an object with name and value");
      continue;
    }
    EnvVar v{read_string(e, "name", path, errors, "", kMaxEnvNameLength),
             read_string(e, "value", path, errors, "", kMaxEnvValueLength)};
    names.check(v.name, path + ".name", errors);
    out.push_back(v);
  }
  return out;
}

std::vector<SweepParameter> read_sweep(const json& spec, EnvNames& names, Errors& errors) {
  std::vector<SweepParameter> out;
  if (!spec.contains("sweep") || spec["sweep"].is_null()) return out;
  const json& sweep = spec["sweep"];
  const json params = sweep.is_object() ? sweep.value("parameters", json::array()) : json();
  if (!params.is_array()) {
    errors.add("spec.sweep.parameters", "must be a list of {name, values}");
    return out;
  }
  int64_t combinations = 1;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string path = "spec.sweep.parameters[" + std::to_string(i) + "]";
    if (!params[i].is_object()) {
      errors.add(path, "must be an object with name and values");
      continue;
    }
    SweepParameter p;
    p.name = read_string(params[i], "name", path, errors);
    names.check(p.name, path + ".name", errors);
    p.values = read_string_list(params[i], "values", path, errors);
    if (p.values.empty()) errors.add(path + ".values", "give at least one value");
    std::set<std::string> distinct;
    for (size_t v = 0; v < p.values.size(); ++v)
      if (!distinct.insert(p.values[v]).second)
        errors.add(path + ".values[" + std::to_string(v) + "]",
                   in_quotes(p.values[v]) + " is listed twice (it would run twice)");
    // Stop multiplying once over the limit: 100 parameters of 100 values overflow int64.
    if (combinations <= kMaxSweepRuns)
      combinations *= std::max<int64_t>(1, static_cast<int64_t>(p.values.size()));
    out.push_back(std::move(p));
  }
  if (combinations > kMaxSweepRuns)
    errors.add("spec.sweep", "more than " + std::to_string(kMaxSweepRuns) +
                                 " combinations of parameter values; split the sweep into "
                                 "several TrainingJobs");
  return out;
}

// An address only: a CR or LF would let a value add headers to the notification mail.
std::vector<std::string> read_notify(const json& spec, Errors& errors) {
  if (!spec.contains("notify") || spec["notify"].is_null()) return {};
  auto emails = read_string_list(spec["notify"], "email", "spec.notify", errors);
  static const RE2 address(R"(^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$)");
  for (size_t i = 0; i < emails.size(); ++i)
    if (emails[i].size() > 254 || !RE2::FullMatch(emails[i], address))
      errors.add("spec.notify.email[" + std::to_string(i) + "]",
                 in_quotes(emails[i]) + " is not an email address");
  return emails;
}

int64_t read_bounded(const json& spec, const char* key, int64_t fallback, int64_t min,
                     std::optional<int64_t> max, Errors& errors) {
  auto v = read_int(spec, key, "spec", errors);
  if (!v) return fallback;
  if (*v < min || (max && *v > *max)) {
    errors.add(std::string("spec.") + key,
               max ? "must be between " + std::to_string(min) + " and " + std::to_string(*max)
                   : "must be at least " + std::to_string(min));
    return fallback;
  }
  return *v;
}

}  // namespace

TrainingJobSpec parse_trainingjob(const json& trainingjob_object) {
  Errors errors;
  check_name(trainingjob_object, errors);
  const json spec = trainingjob_object.value("spec", json::object());
  if (!spec.is_object()) {
    errors.add("spec", "must be an object");
    errors.throw_if_any();
  }
  check_spec_size(spec, errors);
  TrainingJobSpec tj;
  tj.template_name = read_string(spec, "template", "spec", errors);
  tj.image = read_string(spec, "image", "spec", errors);
  if (tj.template_name.empty() == tj.image.empty())
    errors.add("spec", "give exactly one of template (a Template's name) and image");
  if (!tj.template_name.empty() && !is_object_name(tj.template_name))
    errors.add("spec.template", in_quotes(tj.template_name) + " is not a valid Template name");
  if (!tj.image.empty() && !is_image_reference(tj.image))
    errors.add("spec.image", in_quotes(tj.image) + " is not an image reference");

  read_source(spec, tj, errors);
  tj.command = read_string_list(spec, "command", "spec", errors);
  tj.args = read_string_list(spec, "args", "spec", errors);
  EnvNames names;
  tj.env = read_env(spec, names, errors);
  tj.resources = parse_resources(spec.value("resources", json()), "spec.resources", errors);
  tj.resources.home_size.clear();  // a workspace setting; jobs have no home of their own
  tj.workers = read_bounded(spec, "workers", 1, 1, kMaxWorkers, errors);
  tj.retries = read_bounded(spec, "retries", 0, 0, kMaxRetries, errors);
  if (spec.contains("deadlineSeconds") && !spec["deadlineSeconds"].is_null())
    tj.deadline_seconds = read_bounded(spec, "deadlineSeconds", 1, 1, std::nullopt, errors);
  if (spec.contains("ttlSecondsAfterFinished") && !spec["ttlSecondsAfterFinished"].is_null())
    tj.ttl_seconds_after_finished =
        read_bounded(spec, "ttlSecondsAfterFinished", 0, 0, kMaxTtlSecondsAfterFinished, errors);
  tj.priority = read_bounded(spec, "priority", 0, kMinPriority, kMaxPriority, errors);
  tj.suspend = read_bool(spec, "suspend", "spec", errors).value_or(false);
  tj.sweep = read_sweep(spec, names, errors);
  tj.notify_email = read_notify(spec, errors);
  errors.throw_if_any();
  return tj;
}

std::vector<SweepRun> sweep_combinations(const TrainingJobSpec& spec) {
  std::vector<SweepRun> runs{SweepRun{}};
  for (const auto& param : spec.sweep) {
    std::vector<SweepRun> next;
    next.reserve(runs.size() * param.values.size());
    for (const auto& run : runs)
      for (const auto& value : param.values) {
        SweepRun r = run;
        r.values.emplace_back(param.name, value);
        next.push_back(std::move(r));
      }
    runs = std::move(next);
  }
  for (size_t i = 0; i < runs.size(); ++i) runs[i].index = static_cast<int>(i);
  return runs;
}

std::vector<std::string> substitute_args(const std::vector<std::string>& args,
                                         const SweepRun& run) {
  auto value_of = [&](const std::string& name) -> const std::string* {
    for (const auto& [k, v] : run.values)
      if (k == name) return &v;
    return nullptr;
  };
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const auto& arg : args) {
    std::string s;
    for (size_t i = 0; i < arg.size(); ++i) {
      if (arg.compare(i, 2, "$$") == 0) {
        s += "$$";
        ++i;
        continue;
      }
      if (arg.compare(i, 2, "$(") == 0) {
        size_t close = arg.find(')', i + 2);
        if (close != std::string::npos) {
          if (const std::string* v = value_of(arg.substr(i + 2, close - i - 2))) {
            for (char c : *v) s += c == '$' ? std::string("$$") : std::string(1, c);
            i = close;
            continue;
          }
        }
      }
      s += arg[i];
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rc::api

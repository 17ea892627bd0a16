#include "remotecode/api/template.h"

#include <cctype>

#include "remotecode/util/encoding.h"

namespace rc::api {

using nlohmann::json;

namespace {

bool is_blank(char c) {
  return c == ' ';
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A key a shell and Docker both treat as a plain variable name.
bool is_env_key(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

// The words of an ENV line as Docker splits them: blanks separate words outside quotes; quotes
// and backslash escapes keep their characters together. Returns false on an unterminated quote.
bool split_env_words(const std::string& text, std::vector<std::string>& words) {
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool escapes = c == '\\' && quote != '\'' && i + 1 < text.size();
    if (escapes) {
      word += c;
      word += text[++i];
      in_word = true;
      continue;
    }
    if (quote) {
      if (c == quote) quote = 0;
      word += c;
      continue;
    }
    if (is_blank(c)) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') quote = c;
    word += c;
  }
  if (in_word) words.push_back(word);
  return quote == 0;
}

std::string env_problem(const std::string& args) {
  const std::string usage = "ENV needs KEY=value (several may follow each other) or KEY value";
  std::vector<std::string> words;
  if (!split_env_words(args, words)) return "ENV has an unterminated quote";
  if (words.empty()) return usage;
  if (words[0].find('=') == std::string::npos) {
    // `ENV KEY value`: the rest of the line is the value.
    if (!is_env_key(words[0]))
      return in_quotes(words[0]) +
             " is not an environment variable name (letters, digits and '_', not starting "
             "with a digit)";
    if (words.size() < 2) return usage;
    return "";
  }
  for (const auto& w : words) {
    auto eq = w.find('=');
    if (eq == std::string::npos) return in_quotes(w) + " is not KEY=value; " + usage;
    std::string key = w.substr(0, eq);
    if (!is_env_key(key))
      return in_quotes(key) +
             " is not an environment variable name (letters, digits and '_', not starting "
             "with a digit)";
  }
  return "";
}

Ide parse_ide(const json& spec, Errors& errors) {
  std::string ide = read_string(spec, "ide", "spec", errors, "vscode");
  if (ide == "vscode") return Ide::VSCode;
  if (ide == "jupyter") return Ide::Jupyter;
  if (ide == "none") return Ide::None;
  errors.add("spec.ide", in_quotes(ide) + " is not one of vscode, jupyter, none");
  return Ide::VSCode;
}

// Step problems are collected apart: they decide the reason (InvalidBuildStep).
std::optional<BuildSpec> parse_build(const json& spec, Errors& errors, Errors& step_errors) {
  if (!spec.contains("build") || spec["build"].is_null()) return std::nullopt;
  const json& b = spec["build"];
  if (!b.is_object()) {
    errors.add("spec.build", "must be an object with baseImage and steps");
    return std::nullopt;
  }
  BuildSpec build;
  build.base_image = read_string(b, "baseImage", "spec.build", errors);
  if (!build.base_image.empty() && !is_image_reference(build.base_image))
    errors.add("spec.build.baseImage", in_quotes(build.base_image) +
                                           " is not an image reference such as " +
                                           "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04");
  build.steps = read_string_list(b, "steps", "spec.build", errors);
  if (build.steps.size() > kMaxBuildSteps)
    errors.add("spec.build.steps", "at most " + std::to_string(kMaxBuildSteps) +
                                       " steps are allowed; join commands with && instead");
  for (size_t i = 0; i < build.steps.size(); ++i) {
    std::string problem = build_step_problem(build.steps[i]);
    if (!problem.empty())
      step_errors.add("spec.build.steps[" + std::to_string(i) + "]", std::move(problem));
  }
  return build;
}

}  // namespace

std::string build_step_problem(const std::string& step) {
  if (step.size() > kMaxBuildStepLength)
    return "is longer than " + std::to_string(kMaxBuildStepLength) + " characters";
  for (unsigned char c : step) {
    if (c == '\n' || c == '\r')
      return "must be a single line: a newline would start another instruction";
    if (c < 0x20 || c == 0x7f) return "must not contain control characters such as tabs";
  }
  size_t start = step.find_first_not_of(' ');
  if (start == std::string::npos) return "must not be empty";
  // '#' lines are comments, and at the top of a file parser directives (escape=, syntax=).
  if (step[start] == '#') return "comments and parser directives (\"#\") are not allowed";
  size_t last = step.find_last_not_of(' ');
  if (step[last] == '\\')
    return "must not end with \"\\\": a line continuation would join it to the next line";
  if (step.find("<<") != std::string::npos)
    return "heredocs (\"<<\") are not allowed: they read the following lines";

  size_t word_end = step.find(' ', start);
  std::string instruction = step.substr(start, word_end - start);
  std::string name = upper(instruction);
  if (name != "RUN" && name != "ENV")
    return "only RUN and ENV instructions are allowed, found " + in_quotes(instruction);
  size_t args_start =
      word_end == std::string::npos ? std::string::npos : step.find_first_not_of(' ', word_end);
  if (args_start == std::string::npos) return name + " needs arguments";
  std::string args = step.substr(args_start);
  if (name == "RUN") {
    // BuildKit's RUN flags reach outside the build's sandbox (--mount of secrets and caches,
    // --network=host, --security=insecure).
    if (args.rfind("--", 0) == 0)
      return "RUN options such as --mount, --network or --security are not allowed";
    return "";
  }
  return env_problem(args);
}

TemplateSpec parse_template(const json& template_object) {
  Errors errors, step_errors;
  const json empty = json::object();
  const json& md = template_object.contains("metadata") ? template_object["metadata"] : empty;
  std::string name = md.is_object() ? md.value("name", "") : "";
  if (!is_dns_label(name) || name.size() > kMaxTemplateNameLength)
    errors.add("metadata.name",
               "must be a DNS label (lower-case letters, digits and '-') of at most " +
                   std::to_string(kMaxTemplateNameLength) +
                   " characters: it names the build's Job and image");

  TemplateSpec t;
  const json& spec = template_object.contains("spec") ? template_object["spec"] : empty;
  if (!spec.is_object()) {
    errors.add("spec", "must be an object");
    errors.throw_if_any();
  }
  t.image = read_string(spec, "image", "spec", errors);
  if (!t.image.empty() && !is_image_reference(t.image))
    errors.add("spec.image", in_quotes(t.image) + " is not an image reference such as " +
                                 "ghcr.io/org/image:tag");
  t.build = parse_build(spec, errors, step_errors);
  if (t.image.empty() == !t.build.has_value())
    errors.add("spec", t.image.empty()
                           ? "set either image (a ready image) or build (steps to build one)"
                           : "set either image or build, not both");
  t.repository = parse_repository(spec.value("repository", json()), "spec.repository", errors);
  t.ide = parse_ide(spec, errors);

  const json resources = spec.value("resources", json::object());
  t.defaults = parse_resources(resources.is_object() ? resources.value("default", json()) : json(),
                               "spec.resources.default", errors);
  t.maximum = parse_resources(resources.is_object() ? resources.value("maximum", json()) : json(),
                              "spec.resources.maximum", errors);
  // Defaults above the maximum would make every workspace without its own request invalid.
  effective_resources({}, t.defaults, t.maximum, "spec.resources.default", errors);

  const json sharing = spec.value("sharing", json::object());
  t.sharing.enabled = read_bool(sharing, "enabled", "spec.sharing", errors).value_or(false);
  t.sharing.require_access_key =
      read_bool(sharing, "requireAccessKey", "spec.sharing", errors).value_or(false);

  if (!step_errors.empty()) {
    std::vector<FieldError> all = step_errors.list();
    all.insert(all.end(), errors.list().begin(), errors.list().end());
    throw SpecError("InvalidBuildStep", std::move(all));
  }
  errors.throw_if_any();
  return t;
}

// The status holds the image of the last successful build and the hash it was built for. The
// controller writes status.buildHash when it starts a build and clears status.image until that
// build succeeds, so status.image is only trusted when its tag is status.buildHash. This reads
// the object alone (no operator flags), which the portal and the other controllers need; the
// short window between a spec change and the controller's next status write may still return
// the previous build's image.
std::string template_image(const json& template_object) {
  const json spec = template_object.value("spec", json::object());
  if (spec.is_object()) {
    const json image = spec.value("image", json());
    if (image.is_string() && !image.get<std::string>().empty()) return image.get<std::string>();
  }
  const json status = template_object.value("status", json::object());
  if (!status.is_object()) return "";
  const json image = status.value("image", json()), hash = status.value("buildHash", json());
  if (!image.is_string() || !hash.is_string()) return "";
  const std::string& i = image.get_ref<const std::string&>();
  const std::string& h = hash.get_ref<const std::string&>();
  if (h.empty() || i.size() <= h.size() + 1) return "";
  if (i.compare(i.size() - h.size() - 1, std::string::npos, ":" + h) != 0) return "";
  return i;
}

std::string to_string(Ide ide) {
  switch (ide) {
    case Ide::VSCode:
      return "vscode";
    case Ide::Jupyter:
      return "jupyter";
    case Ide::None:
      return "none";
  }
  return "vscode";
}

std::string dockerfile(const BuildSpec& build, const std::string& default_base_image) {
  std::string out =
      "FROM " + (build.base_image.empty() ? default_base_image : build.base_image) + "\n";
  for (const auto& step : build.steps) out += step + "\n";
  return out;
}

std::string build_hash(const BuildSpec& build, const std::string& default_base_image,
                       const std::string& destination_repository) {
  // A JSON array is an unambiguous serialisation (no two input lists give the same text); the
  // version tag lets a future change of the Dockerfile layout force one rebuild on purpose.
  json inputs = {"remote-code-build/v1",
                 build.base_image.empty() ? default_base_image : build.base_image,
                 destination_repository, build.steps};
  return util::sha256_hex(inputs.dump()).substr(0, 16);
}

}  // namespace rc::api

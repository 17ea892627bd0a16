// A Workspace checked against its Template: the inputs of rendering, or the reason there are
// none yet. Pure: the reconcile passes the cached Template.
#include "remotecode/controllers/conditions.h"
#include "remotecode/controllers/workspace_render.h"

namespace rc::controllers::workspace {

using nlohmann::json;
using Validity = Blocker::Validity;

namespace {

// The message of the Template's failed build, or "" when its last build did not fail. The
// Template controller reports a failed build as a False condition whose reason ends in
// "Failed" (BuildFailed), and may also set status.phase Failed.
std::string build_failure(const json& template_object) {
  const json status = template_object.value("status", json::object());
  if (!status.is_object()) return "";
  for (const auto& c : status.value("conditions", json::array())) {
    std::string reason = c.value("reason", "");
    if (c.value("status", "") == "False" && reason.size() >= 6 &&
        reason.compare(reason.size() - 6, 6, "Failed") == 0)
      return c.value("message", reason);
  }
  if (status.value("phase", "") == "Failed") return "the template's build failed";
  return "";
}

Blocker blocked(std::string phase, std::string reason, std::string message, Validity v) {
  return Blocker{std::move(phase), std::move(reason), std::move(message), v};
}

}  // namespace

Resolution resolve_workspace(const json& workspace, const json* template_object,
                             bool datasets_present) {
  Resolution out;
  RenderInput in;
  try {
    in.spec = api::parse_workspace(workspace);
  } catch (const api::SpecError& e) {
    out.blocker = blocked("Failed", e.reason(), e.what(), Validity::Invalid);
    return out;
  }
  std::string quoted = "\"" + in.spec.template_name + "\"";
  if (!template_object) {
    out.blocker = blocked("Pending", "TemplateNotFound",
                          "Template " + quoted +
                              " does not exist. Create it (kubectl apply -f) or set spec.template "
                              "to one listed by kubectl get templates.",
                          Validity::Unknown);
    return out;
  }

  api::TemplateSpec tpl;
  try {
    tpl = api::parse_template(*template_object);
  } catch (const api::SpecError& e) {
    out.blocker =
        blocked("Failed", "TemplateInvalid",
                "Template " + quoted + " is invalid (" + e.what() + "); its author must fix it.",
                Validity::Unknown);
    return out;
  }
  if (tpl.ide == api::Ide::None) {
    out.blocker = blocked("Failed", "TemplateIsBatchOnly",
                          "Template " + quoted +
                              " is batch-only (ide: none, for training jobs); choose a template "
                              "with ide vscode or jupyter.",
                          Validity::Invalid);
    return out;
  }

  api::Errors errors;
  in.resources = api::effective_resources(in.spec.resources, tpl.defaults, tpl.maximum,
                                          "spec.resources", errors);
  if (!errors.empty()) {
    api::SpecError e("ExceedsTemplateMaximum", errors.list());
    out.blocker = blocked("Failed", e.reason(), e.what(), Validity::Invalid);
    return out;
  }
  out.gpus = in.resources.gpus.value_or(0);

  in.image = api::template_image(*template_object);
  if (in.image.empty()) {
    std::string failure = build_failure(*template_object);
    if (!failure.empty())
      out.blocker = blocked("Failed", "TemplateBuildFailed",
                            "The image of template " + quoted + " failed to build: " + failure,
                            Validity::Valid);
    else
      out.blocker =
          blocked("Building", "TemplateBuilding",
                  "Waiting for the image of template " + quoted + " to be built.", Validity::Valid);
    return out;
  }
  in.ide = tpl.ide;
  in.repository = tpl.repository;
  in.datasets_present = datasets_present;
  out.input = std::move(in);
  return out;
}

}  // namespace rc::controllers::workspace

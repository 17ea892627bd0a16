#include "remotecode/controllers/terminal_errors.h"

#include "remotecode/controllers/conditions.h"
#include "remotecode/util/clock.h"

namespace rc::controllers {

using nlohmann::json;

runtime::TerminalErrorHandler report_terminal_errors(std::shared_ptr<kube::Client> client,
                                                     kube::ResourceRef ref,
                                                     std::shared_ptr<EventRecorder> events) {
  return [client, ref, events](const runtime::ObjectPtr& object, const std::string& reason,
                               const std::string& message) {
    if (!object) return;  // gone: nobody to tell
    if (events) events->record(*object, "Warning", reason, message);
    const json& md = (*object)["metadata"];
    json status = object->value("status", json::object());
    json before = status;
    set_condition(status, {"Ready", "False", reason, message}, md.value("generation", int64_t{0}),
                  util::now_rfc3339());
    if (status == before) return;
    // The whole list, as cached: a merge patch replaces lists, and the status writer of the
    // next reconcile starts from the same cache.
    client->patch(ref, md.value("namespace", ""), md.value("name", ""), kube::PatchType::Merge,
                  {{"status", {{"conditions", status["conditions"]}}}}, "status");
  };
}

}  // namespace rc::controllers

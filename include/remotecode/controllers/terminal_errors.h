// Where a terminal reconcile error (see runtime::TerminalError) is shown: a Warning Event on the
// object and a Ready=False condition with the error's reason in its status, so `kubectl
// describe` and the portal say why nothing happens until the object is changed.
#pragma once
#include <memory>

#include "remotecode/controllers/events.h"
#include "remotecode/kube/client.h"
#include "remotecode/runtime/controller.h"

namespace rc::controllers {

// For Controller::on_terminal_error. `ref` names the primary's resource (it has a status
// subresource). The status is written only when the condition changes, so repeats write nothing.
runtime::TerminalErrorHandler report_terminal_errors(std::shared_ptr<kube::Client> client,
                                                     kube::ResourceRef ref,
                                                     std::shared_ptr<EventRecorder> events);

}  // namespace rc::controllers

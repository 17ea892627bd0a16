// The Template controller: watch -> cache -> queue -> reconcile -> render (pure) -> apply ->
// status.
#pragma once
#include <memory>

#include "remotecode/controllers/config.h"
#include "remotecode/controllers/events.h"
#include "remotecode/runtime/manager.h"

namespace rc::controllers {

// Registers the Template controller and the informers it reads with the manager.
void add_template_controller(runtime::Manager& manager, const OperatorConfig& config,
                             std::shared_ptr<EventRecorder> events);

}  // namespace rc::controllers

// A small controller for tests of the runtime: every ConfigMap labelled demo=yes gets one Secret
// of the same name, owned by it, carrying its data and the identity of the process that wrote it.
#pragma once
#include <string>

#include "remotecode/runtime/manager.h"

namespace rc::testing {

void add_demo_controller(runtime::Manager& manager, const std::string& ns,
                         const std::string& identity);

}  // namespace rc::testing

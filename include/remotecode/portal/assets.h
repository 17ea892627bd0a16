// The portal's pages (webui/), compiled into the binary.
#pragma once
#include <vector>

#include "remotecode/util/embedded.h"

namespace rc::portal {

const std::vector<util::EmbeddedFile>& webui_files();

}  // namespace rc::portal

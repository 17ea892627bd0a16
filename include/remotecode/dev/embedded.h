// Files compiled into the binary for `remote-code dev`: the CRDs (crds/*.yaml) and the example
// templates (examples/template-*.yaml), as they are in the source tree.
#pragma once
#include <vector>

#include "remotecode/util/embedded.h"

namespace rc::dev {

const std::vector<util::EmbeddedFile>& embedded_files();

}  // namespace rc::dev

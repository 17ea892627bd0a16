// Files compiled into the binary for `remote-code dev`: the CRDs (crds/*.yaml) and the example
// templates (examples/template-*.yaml), as they are in the source tree.
#pragma once
#include <string>
#include <vector>

namespace rc::dev {

struct EmbeddedFile {
  const char* path;  // relative to the repository root, e.g. "crds/workspaces.yaml"
  const char* text;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace rc::dev

// A file compiled into the binary by cmake/embed.cmake, as it is in the source tree.
#pragma once
#include <string_view>
#include <vector>

namespace rc::util {

struct EmbeddedFile {
  const char* path;  // relative to the repository root, e.g. "crds/workspaces.yaml"
  std::string_view text;
};

}  // namespace rc::util

// The portal's pages and assets (webui/), from the binary or from a directory.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "remotecode/http/server.h"

namespace rc::portal {

class StaticFiles {
 public:
  // "" serves the copy compiled into the binary.
  explicit StaticFiles(std::string directory);
  // The page or asset for a GET outside /api/ and /auth/; nullopt for those prefixes.
  std::optional<http::Response> serve(const http::Request& request) const;

 private:
  std::optional<std::string> read(const std::string& rel) const;
  std::string directory_;
  std::map<std::string, std::string_view> embedded_;
};

}  // namespace rc::portal

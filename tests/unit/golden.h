// Shared by the render tests: golden-file comparison (UPDATE_GOLDEN=1 rewrites the file instead)
// and strict validation of a rendered object against the Kubernetes 1.32 OpenAPI documents.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "remotecode/schema/validator.h"

namespace rc::testing {

inline const std::string kOpenApiDir = std::string(RC_SHARED_DIR) + "/k8s-openapi/v3";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares `actual` with tests/golden/<kind>/<name>.json.
inline void expect_golden(const std::string& kind, const std::string& name,
                          const nlohmann::json& actual) {
  std::string path = std::string(RC_SOURCE_DIR) + "/tests/golden/" + kind + "/" + name + ".json";
  std::string text = actual.dump(2) + "\n";
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(path) << text;
    return;
  }
  EXPECT_EQ(read_file(path), text)
      << "golden file " << path << " differs; rerun with UPDATE_GOLDEN=1 if the change is meant";
}

inline void expect_strictly_valid(const nlohmann::json& child) {
  auto result = schema::validate_object_strict(child, kOpenApiDir);
  EXPECT_TRUE(result.ok()) << child.value("kind", "") << " " << child["metadata"].value("name", "")
                           << ":\n"
                           << result.to_string();
}

}  // namespace rc::testing

// YAML (or JSON) text to JSON, for apply-patch+yaml bodies and manifests.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rc::sim {

// Throws std::invalid_argument with the parser's message when the text is not YAML.
nlohmann::json yaml_to_json(const std::string& text);
// Every document of a multi-document YAML stream (empty documents skipped).
std::vector<nlohmann::json> yaml_documents_to_json(const std::string& text);

}  // namespace rc::sim

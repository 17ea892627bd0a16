#include "remotecode/sim/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace rc::sim {
namespace {

nlohmann::json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  // Quoted scalars carry the non-specific tag "!": always strings.
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  try {
    size_t used = 0;
    double d = std::stod(s, &used);
    bool numeric = s.find_first_of("0123456789") != std::string::npos &&
                   s.find_first_not_of("0123456789+-.eE") == std::string::npos;
    if (used == s.size() && numeric) return d;
  } catch (const std::exception&) {
  }
  return s;
}

nlohmann::json convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : n) arr.push_back(convert(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : n) obj[kv.first.as<std::string>()] = convert(kv.second);
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

nlohmann::json yaml_to_json(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  try {
    return convert(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("error converting YAML to JSON: ") + e.what());
  }
}

std::vector<nlohmann::json> yaml_documents_to_json(const std::string& text) {
  std::vector<nlohmann::json> out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      auto j = convert(doc);
      if (!j.is_null()) out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("error converting YAML to JSON: ") + e.what());
  }
  return out;
}

}  // namespace rc::sim

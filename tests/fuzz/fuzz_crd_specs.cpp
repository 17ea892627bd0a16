// The three CRD spec parsers on any JSON: each either parses or throws SpecError naming fields;
// any other exception, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/api/template.h"
#include "remotecode/api/trainingjob.h"
#include "remotecode/api/workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  nlohmann::json spec = nlohmann::json::parse(text, nullptr, false);
  if (spec.is_discarded()) return 0;
  // The name is fixed and valid, so that the spec is what gets read.
  nlohmann::json obj = {{"apiVersion", "remotecode.dev/v1alpha1"},
                        {"metadata", {{"name", "fuzz"}, {"namespace", "team"}}},
                        {"spec", spec}};
  try {
    switch (data[0] % 3) {
      case 0:
        rc::api::parse_template(obj);
        break;
      case 1:
        rc::api::parse_workspace(obj);
        break;
      default: {
        auto tj = rc::api::parse_trainingjob(obj);
        rc::api::sweep_combinations(tj);
      }
    }
  } catch (const rc::api::SpecError& e) {
    if (e.errors().empty()) __builtin_trap();  // an error must name what is wrong
  }
  return 0;
}

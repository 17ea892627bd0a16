// Quantities as users write them: parsing never throws, and a canonical form, when there is one,
// parses to the same value. (It need not be its own canonical form: as in the apiserver,
// "8812.5Ki" is stored as "9024000", whose own canonical form is "9024k".)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "remotecode/kube/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto value = rc::kube::parse_quantity(text);
  auto canonical = rc::kube::canonical_quantity(text);
  if (!canonical) return 0;
  auto again = rc::kube::parse_quantity(*canonical);
  if (value && again && std::isfinite(*value) && std::fabs(*value) < 1e15 &&
      std::fabs(*again - *value) > 1e-6 * std::max(1.0, std::fabs(*value)) + 1e-3)
    __builtin_trap();
  return 0;
}

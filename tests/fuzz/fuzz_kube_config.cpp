// A kubeconfig file (YAML, as kubectl reads it) and an exec plugin's ExecCredential output: both
// are read with a clear ConfigError or CredentialError for anything wrong, never a crash or
// another exception.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "remotecode/kube/config.h"
#include "remotecode/kube/exec_credential.h"

namespace {

std::string scratch_file() {
  static const std::string path = "/tmp/rc-fuzz-kubeconfig-" + std::to_string(::getpid());
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    try {
      rc::kube::parse_exec_credential(text, "client.authentication.k8s.io/v1");
    } catch (const rc::kube::CredentialError&) {
    }
    return 0;
  }
  {
    std::ofstream out(scratch_file(), std::ios::trunc | std::ios::binary);
    out << text;
  }
  try {
    rc::kube::load_kubeconfig(scratch_file());
  } catch (const rc::kube::ConfigError&) {
  }
  return 0;
}

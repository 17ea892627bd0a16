// The ExecCredential an exec plugin prints (client.authentication.k8s.io v1 or v1beta1), read
// as client-go reads it.
#pragma once
#include <optional>
#include <string>

#include "remotecode/util/clock.h"

namespace rc::kube {

struct ExecCredential {
  std::string token, cert_pem, key_pem;
  std::optional<util::SystemTime> expiry;  // none: until the server refuses it
};

// Throws CredentialError saying what is wrong with `output`, never quoting it (it holds the
// secret).
ExecCredential parse_exec_credential(const std::string& output, const std::string& api_version);

}  // namespace rc::kube

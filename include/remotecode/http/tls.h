// Certificates made at start-up: a self-signed CA and leaf certificates it signs, so the
// simulator can serve HTTPS that kubectl verifies, and issue client certificates for tests.
#pragma once
#include <string>
#include <vector>

namespace rc::http {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

KeyPair make_ca(const std::string& common_name);
// A server certificate for the given DNS names and IP addresses, signed by `ca`.
KeyPair make_server_cert(const KeyPair& ca, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses);
// A client certificate: CN is the user name, O entries the groups (as Kubernetes reads them).
KeyPair make_client_cert(const KeyPair& ca, const std::string& user,
                         const std::vector<std::string>& groups);

}  // namespace rc::http

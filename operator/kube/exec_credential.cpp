// ExecCredential parsing, apart from running the plugin so that it can be tested (and fuzzed)
// on its own.
#include "remotecode/kube/exec_credential.h"

#include <nlohmann/json.hpp>

#include "remotecode/kube/config.h"

namespace rc::kube {

using nlohmann::json;

namespace {

[[noreturn]] void plugin_fail(const std::string& msg) {
  throw CredentialError(msg);
}

}  // namespace

ExecCredential parse_exec_credential(const std::string& output,
                                     const std::string& expected_version) {
  // The output is never quoted back: it holds the secret.
  json cred;
  try {
    cred = json::parse(output);
  } catch (const json::parse_error& e) {
    plugin_fail("stdout is not a JSON ExecCredential (invalid at byte " + std::to_string(e.byte) +
                ")");
  } catch (const json::exception&) {
    // A number too large for any type (found by fuzz_kube_config).
    plugin_fail("stdout is not a JSON ExecCredential (a number out of range)");
  }
  if (!cred.is_object()) plugin_fail("stdout is not a JSON object");
  auto str_at = [&](const json& obj, const char* key, const std::string& field) -> std::string {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "";
    if (!it->is_string()) plugin_fail(field + " must be a string");
    return it->get<std::string>();
  };
  std::string api_version = str_at(cred, "apiVersion", "apiVersion");
  if (api_version != expected_version)
    plugin_fail("is configured to use API version " + expected_version +
                ", plugin returned version \"" + api_version + "\"");
  std::string kind = str_at(cred, "kind", "kind");
  if (kind != "ExecCredential")
    plugin_fail("returned kind \"" + kind + "\", expected ExecCredential");
  auto status_it = cred.find("status");
  if (status_it == cred.end() || status_it->is_null()) plugin_fail("didn't return a status field");
  if (!status_it->is_object()) plugin_fail("status must be an object");
  const json& status = *status_it;
  ExecCredential out;
  out.token = str_at(status, "token", "status.token");
  out.cert_pem = str_at(status, "clientCertificateData", "status.clientCertificateData");
  out.key_pem = str_at(status, "clientKeyData", "status.clientKeyData");
  if (out.token.empty() && out.cert_pem.empty() && out.key_pem.empty())
    plugin_fail("didn't return a token or cert/key pair");
  if (out.cert_pem.empty() != out.key_pem.empty())
    plugin_fail("returned only certificate or key, not both");
  if (!out.cert_pem.empty()) {
    if (std::string why = check_pem(out.cert_pem, out.key_pem); !why.empty())
      plugin_fail("status.clientCertificateData/clientKeyData: " + why);
  }
  std::string exp = str_at(status, "expirationTimestamp", "status.expirationTimestamp");
  if (!exp.empty()) {
    out.expiry = util::parse_rfc3339(exp);
    if (!out.expiry)
      plugin_fail("status.expirationTimestamp \"" + exp + "\" is not an RFC 3339 time");
  }
  return out;
}

}  // namespace rc::kube

// Portal accounts, kept in Kubernetes Secrets (no other database): Secret user-<name> in the
// operator's namespace holds the scrypt hash, the role and the session epoch. Reads come from
// the secrets informer; a miss right after a write falls back to one GET.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/kube/client.h"
#include "remotecode/portal/router.h"
#include "remotecode/runtime/informer.h"

namespace rc::portal {

struct User {
  std::string username;
  Role role = Role::User;
  std::string password_hash;
  int64_t session_epoch = 0;
};

// "" when `name` is a valid username (1-32 of a-z 0-9 -, letter or digit at both ends).
std::string username_problem(const std::string& name);

class UserStore {
 public:
  UserStore(std::shared_ptr<kube::Client> client, std::shared_ptr<runtime::Informer> secrets,
            std::string operator_namespace, std::string namespace_prefix,
            nlohmann::json quota_hard);
  std::optional<User> find(const std::string& username) const;
  std::vector<User> list() const;
  // Creates the Secret, the user's namespace and its ResourceQuota. Throws HttpError 400 for a
  // bad name or a short password, 409 when the user exists.
  User create(const std::string& username, const std::string& password, Role role);
  // A user named by a trusted proxy header: created (no password) on first sight. An account
  // with a password signs in with it, never through the header (HttpError 403).
  User ensure_external(const std::string& username, Role role = Role::User);
  // Both return the new session epoch: sessions issued before it are over.
  int64_t set_password(const std::string& username, const std::string& password);
  // Ends every session of the user issued before now (so does set_password).
  int64_t bump_epoch(const std::string& username);
  std::string namespace_of(const std::string& username) const;
  // The user whose namespace `ns` is, or nullopt.
  std::optional<std::string> user_of_namespace(const std::string& ns) const;
  // The user's namespace and its GPU ResourceQuota (server-side apply: safe to repeat).
  void ensure_namespace(const std::string& username);

 private:
  User create_secret(const std::string& username, const std::string& password_hash, Role role);
  void patch_data(const std::string& username, const nlohmann::json& data);
  // Read-your-writes: the resourceVersion of our last write of each user until the cache has it.
  void remember_write(const std::string& username, const nlohmann::json& written);
  std::shared_ptr<kube::Client> client_;
  std::shared_ptr<runtime::Informer> secrets_;
  std::string operator_namespace_, prefix_;
  nlohmann::json quota_hard_;  // spec.hard of each user namespace's ResourceQuota
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> written_;
};

}  // namespace rc::portal

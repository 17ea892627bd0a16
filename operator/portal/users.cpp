#include "remotecode/portal/users.h"

#include <re2/re2.h>
#include <chrono>

#include "remotecode/controllers/children.h"
#include "remotecode/kube/api_error.h"
#include "remotecode/portal/auth.h"
#include "remotecode/portal/objects.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

using nlohmann::json;

namespace {

const kube::ResourceRef kNamespaces{"", "v1", "namespaces", false};
constexpr size_t kMinPasswordLength = 8;
constexpr size_t kMaxPasswordLength = 1024;  // scrypt takes any length; this bounds the work

std::string secret_name(const std::string& username) {
  return "user-" + username;
}

std::optional<User> from_secret(const json& secret) {
  auto labels = secret.value("metadata", json::object()).value("labels", json::object());
  if (labels.value("remotecode.dev/kind", "") != "user") return std::nullopt;
  User u;
  u.username = labels.value("remotecode.dev/name", "");
  if (u.username.empty()) return std::nullopt;
  u.role = secret_data(secret, "role") == "admin" ? Role::Admin : Role::User;
  u.password_hash = secret_data(secret, "passwordHash");
  try {
    u.session_epoch = std::stoll(secret_data(secret, "sessionEpoch"));
  } catch (const std::exception&) {
    u.session_epoch = 0;
  }
  return u;
}

int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void check_password(const std::string& password) {
  if (password.size() < kMinPasswordLength)
    throw bad_request("password: must be at least " + std::to_string(kMinPasswordLength) +
                      " characters");
  if (password.size() > kMaxPasswordLength)
    throw bad_request("password: must be at most " + std::to_string(kMaxPasswordLength) +
                      " characters");
}

}  // namespace

std::string username_problem(const std::string& name) {
  static const RE2 pattern("^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$");
  if (RE2::FullMatch(name, pattern)) return "";
  return "username: must be 1-32 lower-case letters, digits and '-', starting and ending with a "
         "letter or digit";
}

UserStore::UserStore(std::shared_ptr<kube::Client> client,
                     std::shared_ptr<runtime::Informer> secrets, std::string operator_namespace,
                     std::string namespace_prefix, json quota_hard)
    : client_(std::move(client)),
      secrets_(std::move(secrets)),
      operator_namespace_(std::move(operator_namespace)),
      prefix_(std::move(namespace_prefix)),
      quota_hard_(std::move(quota_hard)) {}

std::optional<User> UserStore::find(const std::string& username) const {
  if (!username_problem(username).empty()) return std::nullopt;
  const std::string name = secret_name(username);
  std::string written_version;
  {
    std::lock_guard lk(mu_);
    auto it = written_.find(username);
    if (it != written_.end()) written_version = it->second;
  }
  auto cached = secrets_->store().get(operator_namespace_ + "/" + name);
  if (cached && (written_version.empty() ||
                 cached->at("metadata").value("resourceVersion", "") == written_version)) {
    if (!written_version.empty()) {
      std::lock_guard lk(mu_);
      written_.erase(username);
    }
    return from_secret(*cached);
  }
  // Unknown to a synced cache, and not written by us: there is no such user (no API call, so
  // probing names costs the cluster nothing).
  if (!cached && written_version.empty() && secrets_->has_synced()) return std::nullopt;
  // Not cached yet, or older than our own last write: read our writes from the API server.
  try {
    return from_secret(client_->get(controllers::refs::secrets(), operator_namespace_, name));
  } catch (const kube::ApiError& e) {
    if (e.not_found()) return std::nullopt;
    throw;
  }
}

std::vector<User> UserStore::list() const {
  std::vector<User> out;
  for (const auto& s : secrets_->store().list_namespace(operator_namespace_))
    if (auto u = from_secret(*s)) out.push_back(*u);
  std::sort(out.begin(), out.end(),
            [](const User& a, const User& b) { return a.username < b.username; });
  return out;
}

void UserStore::remember_write(const std::string& username, const json& written) {
  std::lock_guard lk(mu_);
  written_[username] = written.at("metadata").value("resourceVersion", "");
}

User UserStore::create(const std::string& username, const std::string& password, Role role) {
  if (auto p = username_problem(username); !p.empty()) throw bad_request(p);
  check_password(password);
  return create_secret(username, hash_password(password), role);
}

User UserStore::create_secret(const std::string& username, const std::string& password_hash,
                              Role role) {
  User u{username, role, password_hash, now_micros()};
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"type", "remotecode.dev/user"},
                 {"metadata",
                  {{"name", secret_name(username)},
                   {"namespace", operator_namespace_},
                   {"labels",
                    {{"app.kubernetes.io/managed-by", "remote-code"},
                     {"remotecode.dev/kind", "user"},
                     {"remotecode.dev/name", username}}}}},
                 {"data",
                  {{"passwordHash", util::base64_encode(password_hash)},
                   {"role", util::base64_encode(to_string(role))},
                   {"sessionEpoch", util::base64_encode(std::to_string(u.session_epoch))}}}};
  try {
    remember_write(username,
                   client_->create(controllers::refs::secrets(), operator_namespace_, secret));
  } catch (const kube::ApiError& e) {
    if (e.already_exists()) throw conflict("user " + username + " exists");
    throw;
  }
  ensure_namespace(username);
  return u;
}

User UserStore::ensure_external(const std::string& username, Role role) {
  auto refuse_local = [&](const User& u) {
    if (!u.password_hash.empty())
      throw forbidden("account " + username + " signs in with a password, not through the proxy");
    return u;
  };
  if (auto u = find(username)) return refuse_local(*u);
  if (auto p = username_problem(username); !p.empty()) throw forbidden(p);
  try {
    return create_secret(username, "", role);
  } catch (const HttpError&) {
    if (auto u = find(username)) return refuse_local(*u);  // another replica made it first
    throw;
  }
}

void UserStore::patch_data(const std::string& username, const json& data) {
  json encoded = json::object();
  for (const auto& [k, v] : data.items()) encoded[k] = util::base64_encode(v.get<std::string>());
  remember_write(
      username, client_->patch(controllers::refs::secrets(), operator_namespace_,
                               secret_name(username), kube::PatchType::Merge, {{"data", encoded}}));
}

int64_t UserStore::set_password(const std::string& username, const std::string& password) {
  check_password(password);
  int64_t epoch = now_micros();
  patch_data(username,
             {{"passwordHash", hash_password(password)}, {"sessionEpoch", std::to_string(epoch)}});
  return epoch;
}

int64_t UserStore::bump_epoch(const std::string& username) {
  int64_t epoch = now_micros();
  patch_data(username, {{"sessionEpoch", std::to_string(epoch)}});
  return epoch;
}

std::string UserStore::namespace_of(const std::string& username) const {
  return prefix_ + username;
}

std::optional<std::string> UserStore::user_of_namespace(const std::string& ns) const {
  if (ns.size() <= prefix_.size() || ns.compare(0, prefix_.size(), prefix_) != 0)
    return std::nullopt;
  std::string user = ns.substr(prefix_.size());
  if (!username_problem(user).empty()) return std::nullopt;
  return user;
}

void UserStore::ensure_namespace(const std::string& username) {
  const std::string ns = namespace_of(username);
  json labels = {{"app.kubernetes.io/managed-by", "remote-code"},
                 {"remotecode.dev/user", username}};
  // Every pod the operator makes for a user passes the restricted Pod Security Standard; the
  // apiserver then refuses anything else a user might create there.
  json ns_labels = labels;
  ns_labels["pod-security.kubernetes.io/enforce"] = "restricted";
  ns_labels["pod-security.kubernetes.io/warn"] = "restricted";
  client_->apply(kNamespaces, {{"apiVersion", "v1"},
                               {"kind", "Namespace"},
                               {"metadata", {{"name", ns}, {"labels", ns_labels}}}});
  client_->apply(controllers::refs::resourcequotas(),
                 {{"apiVersion", "v1"},
                  {"kind", "ResourceQuota"},
                  {"metadata", {{"name", "remote-code"}, {"namespace", ns}, {"labels", labels}}},
                  {"spec", {{"hard", quota_hard_}}}});
}

}  // namespace rc::portal

// The simulator's API semantics, independent of HTTP: create, update, patch, apply, delete,
// get, list on any served resource, with the rules of a kube-apiserver registry (defaults,
// validation, status subresource, generation, optimistic concurrency, finalizers, managed
// fields). The REST layer and the simulated cluster's controllers both call it.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/kube/selector.h"
#include "remotecode/sim/errors.h"
#include "remotecode/sim/resource_type.h"
#include "remotecode/sim/store.h"
#include "remotecode/sim/type_registry.h"

namespace rc::schema {
class Document;
}

namespace rc::sim {

struct WriteOptions {
  std::string field_manager;                     // who writes (managedFields)
  bool dry_run = false;                          // dryRun=All: validate, answer, store nothing
  std::string field_validation = "Warn";         // Ignore | Warn | Strict (unknown fields)
  bool force = false;                            // server-side apply: take conflicting fields
  bool status = false;                           // the /status subresource
  std::vector<std::string>* warnings = nullptr;  // sent back as Warning headers
};

struct DeleteOptions {
  std::optional<std::string> propagation;  // Background | Foreground | Orphan
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_rv;
  std::optional<int64_t> grace_period_seconds;
  bool dry_run = false;
  std::vector<std::string>* warnings = nullptr;
};

struct ListOptions {
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  int64_t limit = 0;
  std::string continue_token;
};

struct ListResult {
  std::vector<ObjPtr> items;
  uint64_t resource_version = 0;
  std::string continue_token;
  std::optional<int64_t> remaining;
};

struct DeleteResult {
  nlohmann::json body;   // the object, or a Status
  bool deleted = false;  // gone now (false: waiting for finalizers)
};

struct ApiOptions {
  const schema::Document* builtin_schemas = nullptr;  // strict unknown-field checks when given
};

class Api {
 public:
  Api(Store& store, TypeRegistry& types, ApiOptions options = {});

  nlohmann::json create(const ResourceType& rt, const std::string& ns, nlohmann::json obj,
                        const WriteOptions& opt);
  nlohmann::json update(const ResourceType& rt, const std::string& ns, const std::string& name,
                        nlohmann::json obj, const WriteOptions& opt);
  // type: the Content-Type of the patch (json-patch, merge-patch, strategic-merge-patch,
  // apply-patch+yaml). Answers 201 semantics through `created` for apply that creates.
  nlohmann::json patch(const ResourceType& rt, const std::string& ns, const std::string& name,
                       const std::string& type, const std::string& body, const WriteOptions& opt,
                       bool* created = nullptr);
  DeleteResult remove(const ResourceType& rt, const std::string& ns, const std::string& name,
                      const DeleteOptions& opt);
  nlohmann::json get(const ResourceType& rt, const std::string& ns, const std::string& name);
  ListResult list(const ResourceType& rt, const std::string& ns, const ListOptions& opt);
  // Deletes what a list would return; answers the deleted objects as a list.
  nlohmann::json delete_collection(const ResourceType& rt, const std::string& ns,
                                   const ListOptions& lopt, const DeleteOptions& dopt);

  // For the garbage collector and controllers: removes the object when it is marked for deletion
  // and has no finalizers left. Requires the store mutex NOT held.
  void finalize_if_done(const ResourceType& rt, const std::string& ns, const std::string& name);
  // Validates a field selector against what the resource supports (400 otherwise).
  void check_field_selector(const ResourceType& rt, const kube::FieldSelector& fs) const;

  Store& store() { return store_; }
  TypeRegistry& types() { return types_; }
  // Called after a CRD is stored or changed (registers or drops its types).
  std::function<void(const nlohmann::json& crd)> on_crd_change;

 private:
  nlohmann::json prepare_update(const ResourceType& rt, const ObjPtr& existing, nlohmann::json obj,
                                const WriteOptions& opt, bool managed_fields_done);
  nlohmann::json commit_update(const ResourceType& rt, const ObjPtr& existing,
                               nlohmann::json updated, const WriteOptions& opt);
  nlohmann::json do_create(const ResourceType& rt, const std::string& ns, nlohmann::json obj,
                           const WriteOptions& opt, bool managed_fields_done);
  void validate_and_default(const ResourceType& rt, nlohmann::json& obj, const ObjPtr& old,
                            const WriteOptions& opt);
  void admit_pod_quota(const nlohmann::json& pod);
  DeleteResult remove_locked(const ResourceType& rt, const ObjPtr& existing,
                             const DeleteOptions& opt);

  Store& store_;
  TypeRegistry& types_;
  ApiOptions options_;
};

// What a field manager is called when the client names none: the User-Agent's program name.
std::string default_field_manager(const std::string& user_agent);
// A new RFC 4122 version 4 UUID.
std::string new_uid();

}  // namespace rc::sim

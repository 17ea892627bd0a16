// The typed face of the API: get, list (paged), create, update, status update, patch (merge,
// JSON, strategic, server-side apply), delete with preconditions and propagation, pod logs.
// Requests share a client-side rate limit; 429s (honouring Retry-After) are retried, and so are
// 5xx and broken connections on idempotent requests, with exponential backoff and jitter, all
// within one deadline per request that covers its retries and its wait for a token.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/kube/api_error.h"
#include "remotecode/kube/transport.h"

namespace rc::kube {

// Which collection a request names: group, version, plural, scope.
struct ResourceRef {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/namespaces/ns/pods" or "/apis/apps/v1/deployments"; ns "" lists every namespace.
  std::string collection_path(const std::string& ns) const;
  std::string item_path(const std::string& ns, const std::string& name,
                        const std::string& subresource = "") const;
};

enum class PatchType { Merge, Json, Strategic, Apply };

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 500;           // page size; every page is fetched
  std::string resource_version;  // "" (latest) or "0" (any)
};

struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;
};

struct DeleteOptions {
  std::optional<std::string> propagation;  // Background | Foreground | Orphan
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<int64_t> grace_period_seconds;
};

// Sees every request's outcome (for rest_client_requests_total{code,method}).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // code: the HTTP status, or "<error>" when none came back.
  virtual void on_request(const std::string& method, const std::string& code) = 0;
};

struct ClientOptions {
  double qps = 20;  // sustained requests per second (0: unlimited)
  int burst = 30;
  int max_retries = 6;
  long timeout_ms = 30000;   // one attempt
  long deadline_ms = 60000;  // a request with its retries and token waits; 0: none
  std::string user_agent = "remote-code";
  std::string field_manager = "remote-code";
};

class Client {
 public:
  Client(std::shared_ptr<Transport> transport, ClientOptions options);
  // From a cluster config: credentials, TLS and the curl transport.
  static std::shared_ptr<Client> connect(const ClusterConfig& config, ClientOptions options);

  nlohmann::json get(const ResourceRef& ref, const std::string& ns, const std::string& name);
  ListResult list(const ResourceRef& ref, const std::string& ns, const ListOptions& opts = {});
  nlohmann::json create(const ResourceRef& ref, const std::string& ns, const nlohmann::json& obj);
  nlohmann::json update(const ResourceRef& ref, const nlohmann::json& obj);
  nlohmann::json update_status(const ResourceRef& ref, const nlohmann::json& obj);
  nlohmann::json patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                       PatchType type, const nlohmann::json& patch,
                       const std::string& subresource = "");
  // Server-side apply of `obj` (its metadata names it) with the client's field manager.
  nlohmann::json apply(const ResourceRef& ref, const nlohmann::json& obj, bool force = true,
                       const std::string& subresource = "");
  // The deleted object or Status; a missing object is ApiError 404.
  nlohmann::json remove(const ResourceRef& ref, const std::string& ns, const std::string& name,
                        const DeleteOptions& opts = {});
  std::string logs(const std::string& ns, const std::string& pod, const std::string& container = "",
                   std::optional<int64_t> tail_lines = std::nullopt);

  // One request through the rate limit and the retry rules, ended by req.deadline (or the
  // options' deadline_ms). Throws ApiError / TransportError.
  HttpResponse request(HttpRequest req, bool idempotent);
  // One streamed request (a watch) through the rate limit, counted like any request; not
  // retried. See Transport::stream.
  HttpResponse stream(const HttpRequest& req, const DataSink& sink,
                      const std::atomic<bool>& cancel);
  // Another client on the same transport and credentials with its own options and rate limit:
  // the leader elector's, which reconciles and watches must not be able to starve.
  std::shared_ptr<Client> with_options(ClientOptions options) const;
  Transport& transport() { return *transport_; }
  const ClientOptions& options() const { return options_; }
  // Set before the client is shared between threads.
  void set_observer(std::shared_ptr<RequestObserver> observer) { observer_ = std::move(observer); }
  // Waits for a rate-limit token; throws TransportError when none comes before `deadline`.
  void acquire_token(std::chrono::steady_clock::time_point deadline =
                         std::chrono::steady_clock::time_point::max());

 private:
  std::shared_ptr<Transport> transport_;
  ClientOptions options_;
  std::shared_ptr<RequestObserver> observer_;
  std::mutex bucket_mu_;
  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
};

// Query-string escaping for selectors and names.
std::string url_escape(const std::string& s);

}  // namespace rc::kube

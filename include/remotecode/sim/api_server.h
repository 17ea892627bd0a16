// The simulator's REST front: routes Kubernetes API paths to Api verbs, answers discovery,
// OpenAPI, Tables and watches, checks credentials, injects faults and counts requests per verb
// and resource (so tests can compare what a client did with what its RBAC allows).
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "remotecode/http/server.h"
#include "remotecode/sim/api.h"
#include "remotecode/sim/faults.h"
#include "remotecode/sim/openapi.h"
#include "remotecode/sim/pod_scripts.h"

namespace rc::sim {

struct LogRequest {
  std::string namespace_name;
  std::string pod;
  std::string container;
  std::optional<int64_t> tail_lines;
  bool follow = false;
  bool timestamps = false;
  bool previous = false;
};

// Pod logs come from the simulated kubelet: returns the text, or throws StatusError.
using LogSource = std::function<std::string(const LogRequest&)>;
// Follows a running container's log until it ends or `still_wanted` says stop.
using LogFollower =
    std::function<void(const LogRequest&, const std::function<bool(const std::string&)>& write)>;

struct ApiServerOptions {
  std::string token;        // bearer token accepted for every request
  std::string openapi_dir;  // real OpenAPI v3 documents for built-in types, or ""
  int bookmark_interval_seconds = 60;
  int min_request_timeout_seconds = 1800;  // a watch without timeoutSeconds ends after 1-2x this
};

class ApiServer {
 public:
  ApiServer(Api& api, Faults& faults, PodScripts& scripts, ApiServerOptions options);
  http::Response handle(http::Request& req);
  void set_log_source(LogSource source, LogFollower follower);
  void set_server_address(std::string address) { server_address_ = std::move(address); }
  // Requests seen, as {"verb resource[/sub] group": count}.
  nlohmann::json request_counts() const;
  void stop() { stopping_ = true; }

 private:
  http::Response route(http::Request& req, const std::string& user);
  http::Response resource_request(http::Request& req, const std::string& group,
                                  const std::string& version, std::vector<std::string> segs,
                                  bool watch_prefix, const std::string& user);
  http::Response watch(const ResourceType& rt, const std::string& ns, const ListOptions& opts,
                       http::Request& req, bool as_table);
  void count(const std::string& verb, const ResourceType& rt, const std::string& sub,
             const std::string& user_agent);
  // Blocks this connection's thread while an injected fault holds (or until stop()).
  void hold_while(const std::function<bool()>& fault_holds) const;

  Api& api_;
  Faults& faults_;
  PodScripts& scripts_;
  ApiServerOptions options_;
  OpenApi openapi_;
  std::string server_address_ = "127.0.0.1:6443";
  LogSource logs_;
  LogFollower follow_logs_;
  mutable std::mutex counts_mu_;
  std::map<std::string, int64_t> counts_;
  std::atomic<bool> stopping_{false};
};

}  // namespace rc::sim

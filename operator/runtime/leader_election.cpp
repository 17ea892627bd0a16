#include "remotecode/runtime/leader_election.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::runtime {

using nlohmann::json;

namespace {
const kube::ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true};
}

std::shared_ptr<kube::Client> leader_election_client(const kube::Client& shared,
                                                     const LeaderElectionOptions& options) {
  kube::ClientOptions o = shared.options();
  o.qps = 5;  // a renewal is two requests every retry period
  o.burst = 10;
  o.max_retries = 0;
  // Half the renew deadline per request: a pooled connection that died silently costs one
  // attempt, and a fresh connection still has time before the deadline.
  o.deadline_ms = static_cast<long>(options.renew_deadline.count());
  o.timeout_ms = std::max(1L, o.deadline_ms / 2);
  return shared.with_options(std::move(o));
}

LeaderElector::LeaderElector(std::shared_ptr<kube::Client> client, LeaderElectionOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  if (options_.identity.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    options_.identity = std::string(host) + "_" + util::random_hex(8);
  }
}

LeaderElector::~LeaderElector() {
  stop();
}

void LeaderElector::start(std::function<void()> on_started, std::function<void()> on_stopped) {
  on_started_ = std::move(on_started);
  on_stopped_ = std::move(on_stopped);
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::stop() {
  if (stop_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

json LeaderElector::call(const std::string& method, const std::string& path,
                         const std::string& body, Deadline deadline) {
  kube::HttpRequest r{method, path, body, body.empty() ? "" : "application/json"};
  r.deadline = deadline;
  // Only the GET is safe to repeat; the client is built with no retries anyway.
  return json::parse(client_->request(r, method == "GET").body);
}

bool LeaderElector::try_acquire_or_renew(Deadline deadline) {
  auto now_wall = util::rfc3339_micro(std::chrono::system_clock::now());
  int lease_seconds = static_cast<int>(options_.lease_duration.count() / 1000);
  const std::string manager = "?fieldManager=" + kube::url_escape(client_->options().field_manager);
  json lease;
  try {
    lease =
        call("GET", kLeases.item_path(options_.namespace_name, options_.lease_name), "", deadline);
  } catch (const kube::ApiError& e) {
    if (!e.not_found()) throw;
    json fresh = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", options_.lease_name}, {"namespace", options_.namespace_name}}},
        {"spec",
         {{"holderIdentity", options_.identity},
          {"leaseDurationSeconds", lease_seconds},
          {"acquireTime", now_wall},
          {"renewTime", now_wall},
          {"leaseTransitions", 0}}}};
    observed_ = call("POST", kLeases.collection_path(options_.namespace_name) + manager,
                     fresh.dump(), deadline);
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  const json spec = lease.value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  // Another holder's lease is valid until lease_duration after we last saw it change: local
  // time only, so clock skew between machines does not matter (as in client-go).
  std::string observed_rv;
  if (observed_.is_object() && observed_.contains("metadata"))
    observed_rv = observed_["metadata"].value("resourceVersion", "");
  if (observed_rv.empty() || lease["metadata"].value("resourceVersion", "") != observed_rv) {
    observed_ = lease;
    observed_at_ = std::chrono::steady_clock::now();
  }
  bool expired =
      std::chrono::steady_clock::now() >
      observed_at_ + std::chrono::seconds(spec.value("leaseDurationSeconds", lease_seconds));
  if (!holder.empty() && holder != options_.identity && !expired) return false;
  json updated = lease;
  auto& s = updated["spec"];
  if (holder != options_.identity) {
    s["acquireTime"] = now_wall;
    s["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  s["holderIdentity"] = options_.identity;
  s["leaseDurationSeconds"] = lease_seconds;
  s["renewTime"] = now_wall;
  // The update carries the resourceVersion: if someone else wrote first, this is a 409.
  observed_ = call("PUT", kLeases.item_path(options_.namespace_name, options_.lease_name) + manager,
                   updated.dump(), deadline);
  observed_at_ = std::chrono::steady_clock::now();
  return true;
}

void LeaderElector::release() {
  try {
    Deadline deadline = std::chrono::steady_clock::now() + options_.renew_deadline;
    std::string path = kLeases.item_path(options_.namespace_name, options_.lease_name);
    json lease = call("GET", path, "", deadline);
    if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
    auto now_wall = util::rfc3339_micro(std::chrono::system_clock::now());
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = now_wall;
    lease["spec"]["acquireTime"] = now_wall;
    call("PUT", path, lease.dump(), deadline);
    spdlog::info("leader election: released lease {}/{}", options_.namespace_name,
                 options_.lease_name);
  } catch (const std::exception& e) {
    spdlog::warn("leader election: could not release the lease: {}", e.what());
  }
}

void LeaderElector::run() {
  using Clock = std::chrono::steady_clock;
  auto wait = [this](Clock::duration d) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, d, [this] { return stop_.load(); });
  };
  auto attempt = [this](Deadline deadline) {
    try {
      return try_acquire_or_renew(deadline);
    } catch (const std::exception& e) {
      spdlog::warn("leader election: {}", e.what());
    } catch (...) {
      spdlog::warn("leader election: an exception that is not a std::exception");
    }
    return false;
  };
  std::mt19937 rng{std::random_device{}()};
  // As a candidate: try every retry period (jittered by up to 20%, as client-go's JitterUntil).
  Clock::time_point last_renew;
  while (!stop_) {
    auto started = Clock::now();
    if (attempt(started + options_.renew_deadline)) {
      last_renew = started;
      break;
    }
    wait(std::chrono::duration_cast<Clock::duration>(
        options_.retry_period * std::uniform_real_distribution<double>(1.0, 1.2)(rng)));
  }
  if (stop_) return;
  leading_ = true;
  spdlog::info("leader election: {} became the leader", options_.identity);
  if (on_started_) on_started_();
  // As the leader: renew every retry period. The lease was last seen renewed by others no
  // earlier than when our last successful renewal was sent, so a renewal must succeed before
  // that time plus the renew deadline; a request still in flight then is cut off.
  while (!stop_) {
    wait(options_.retry_period);
    if (stop_) break;
    Deadline deadline = last_renew + options_.renew_deadline;
    auto started = Clock::now();
    if (started < deadline && attempt(deadline)) {
      last_renew = started;
      continue;
    }
    // No time left for another attempt after the next retry period: stop leading now.
    if (Clock::now() + options_.retry_period < deadline) continue;
    leading_ = false;
    spdlog::error("leader election: {} could not renew lease {}/{} within {} ms; stopping",
                  options_.identity, options_.namespace_name, options_.lease_name,
                  options_.renew_deadline.count());
    if (on_stopped_) on_stopped_();
    return;
  }
  release();
  leading_ = false;
  if (on_stopped_) on_stopped_();
}

}  // namespace rc::runtime

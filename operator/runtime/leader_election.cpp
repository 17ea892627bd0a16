#include "remotecode/runtime/leader_election.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::runtime {

using nlohmann::json;

namespace {
const kube::ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true};
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

bool LeaderElector::try_acquire_or_renew() {
  auto now_wall = util::rfc3339_micro(std::chrono::system_clock::now());
  int lease_seconds = static_cast<int>(options_.lease_duration.count() / 1000);
  json lease;
  try {
    lease = client_->get(kLeases, options_.namespace_name, options_.lease_name);
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
    client_->create(kLeases, options_.namespace_name, fresh);
    observed_ = fresh;
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
  observed_ = client_->update(kLeases, updated);
  observed_at_ = std::chrono::steady_clock::now();
  return true;
}

void LeaderElector::release() {
  try {
    json lease = client_->get(kLeases, options_.namespace_name, options_.lease_name);
    if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
    auto now_wall = util::rfc3339_micro(std::chrono::system_clock::now());
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = now_wall;
    lease["spec"]["acquireTime"] = now_wall;
    client_->update(kLeases, lease);
    spdlog::info("leader election: released lease {}/{}", options_.namespace_name,
                 options_.lease_name);
  } catch (const std::exception& e) {
    spdlog::warn("leader election: could not release the lease: {}", e.what());
  }
}

void LeaderElector::run() {
  auto wait = [this](std::chrono::milliseconds d) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, d, [this] { return stop_.load(); });
  };
  auto last_renew = std::chrono::steady_clock::now();
  while (!stop_) {
    bool ok = false;
    try {
      ok = try_acquire_or_renew();
    } catch (const std::exception& e) {
      spdlog::warn("leader election: {}", e.what());
    }
    auto now = std::chrono::steady_clock::now();
    if (ok) {
      last_renew = now;
      if (!leading_.exchange(true)) {
        spdlog::info("leader election: {} became the leader", options_.identity);
        if (on_started_) on_started_();
      }
    } else if (leading_ && now - last_renew > options_.renew_deadline) {
      // Could not renew in time: another process may take over, so stop leading now.
      leading_ = false;
      spdlog::warn("leader election: lost the lease");
      if (on_stopped_) on_stopped_();
    }
    wait(options_.retry_period);
  }
  if (leading_) {
    release();
    leading_ = false;
    if (on_stopped_) on_stopped_();
  }
}

}  // namespace rc::runtime

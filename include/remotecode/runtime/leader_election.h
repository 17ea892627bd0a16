// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings (lease 15 s,
// renew deadline 10 s, retry 2 s). The leader renews on its own thread with its own client; every
// request of a renewal ends by the renew deadline, counted from the last successful renewal, and
// when that passes the leader gives up at once (others can take the lease only lease_duration
// after they saw it renewed). A standby retries until the lease expires. On a clean stop the
// leader releases the lease so a successor starts at once.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "remotecode/kube/client.h"

namespace rc::runtime {

struct LeaderElectionOptions {
  std::string namespace_name = "default";
  std::string lease_name = "remote-code";
  std::string identity;  // default: hostname + "_" + random
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// The elector's own client on `shared`'s transport: its own token bucket (reconciles and
// watches cannot use up its tokens), no retries (the elector retries every retry_period) and
// no request longer than half the renew deadline.
std::shared_ptr<kube::Client> leader_election_client(const kube::Client& shared,
                                                     const LeaderElectionOptions& options);

class LeaderElector {
 public:
  // `client`: see leader_election_client().
  LeaderElector(std::shared_ptr<kube::Client> client, LeaderElectionOptions options);
  ~LeaderElector();
  // Runs in its own thread: `on_started` when leadership is gained, `on_stopped` when it is lost
  // or given up by stop(). Both run on the elector's thread and must return quickly. After a
  // loss the elector does not try again (client-go's Run returns): the process should exit.
  void start(std::function<void()> on_started, std::function<void()> on_stopped);
  // Stops; a leader releases the lease first.
  void stop();
  bool leading() const { return leading_; }
  const std::string& identity() const { return options_.identity; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  void run();
  // Every request it makes ends by `deadline`. Throws on failure; false when another holds it.
  bool try_acquire_or_renew(Deadline deadline);
  void release();
  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body,
                      Deadline deadline);

  std::shared_ptr<kube::Client> client_;
  LeaderElectionOptions options_;
  std::function<void()> on_started_, on_stopped_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  nlohmann::json observed_;  // the lease as last read
  std::chrono::steady_clock::time_point observed_at_;
};

}  // namespace rc::runtime

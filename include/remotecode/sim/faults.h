// Fault injection, so tests can prove a client survives a misbehaving API server and network: a
// rate of 500s and of 429s (with Retry-After) per verb, added latency, watches closed every N
// seconds, a forced 410 on the next watch, 401s on the next watches, an ERROR event other than
// 410 ending every watch, watches that are accepted and then send nothing (half-open), and a
// black-holed client (by User-Agent) that gets no answer at all. Set by flags and changed at run
// time on /sim/faults.
#pragma once
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace rc::sim {

struct FaultConfig {
  std::map<std::string, double> error_500;  // verb (get, list, watch, create, update, patch,
                                            // delete, deletecollection, or "*") -> rate 0..1
  std::map<std::string, double> error_429;
  int retry_after_seconds = 1;
  int latency_ms = 0;
  int close_watch_seconds = 0;  // 0: never
  bool force_410_next_watch = false;
  int unauthorized_watches = 0;  // the next N watch requests answer 401
  int watch_error_code = 0;      // while set, every watch sends one ERROR event of it and ends
  // While set, new watches are accepted and answered with nothing (not even a header), and every
  // open watch falls silent for good, as over a connection that died without a FIN.
  bool stall_watches = false;
  // While set, a request whose User-Agent contains it gets no answer (it is held, unserved,
  // then dropped with a 504 once the fault is lifted) and its open watches fall silent for good.
  std::string blackhole_user_agent;
};

class Faults {
 public:
  void set(const FaultConfig& c);
  FaultConfig get() const;
  // Throws the injected StatusError for this verb, if the dice say so; sleeps the latency.
  void before_request(const std::string& verb);
  bool take_forced_410();
  bool take_unauthorized_watch();
  int close_watch_seconds() const;
  int watch_error_code() const;
  bool stall_watches() const;
  bool blackholed(const std::string& user_agent) const;
  // An open watch of this client must send nothing more (stalled or black-holed).
  bool silenced(const std::string& user_agent) const;
  nlohmann::json to_json() const;
  // Reads {"error500": {"list": 0.1}, "error429": {...}, "retryAfterSeconds": 1,
  // "latencyMs": 0, "closeWatchSeconds": 0, "force410": true, "unauthorizedWatches": 1,
  // "watchErrorCode": 500, "stallWatches": true, "blackholeUserAgent": "demo-operator/alpha"};
  // throws std::invalid_argument.
  static FaultConfig from_json(const nlohmann::json& j, FaultConfig base);
  // Parses a flag value "list=0.1,create=0.05" or "0.1" (every verb).
  static std::map<std::string, double> parse_rates(const std::string& text);

 private:
  mutable std::mutex mu_;
  FaultConfig config_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace rc::sim

// Fault injection, so tests can prove a client survives a misbehaving API server: a rate of
// 500s and of 429s (with Retry-After) per verb, added latency, watches closed every N seconds,
// and a forced 410 on the next watch. Set by flags and changed at run time on /sim/faults.
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
};

class Faults {
 public:
  void set(const FaultConfig& c);
  FaultConfig get() const;
  // Throws the injected StatusError for this verb, if the dice say so; sleeps the latency.
  void before_request(const std::string& verb);
  bool take_forced_410();
  int close_watch_seconds() const;
  nlohmann::json to_json() const;
  // Reads {"error500": {"list": 0.1}, "error429": {...}, "retryAfterSeconds": 1,
  // "latencyMs": 0, "closeWatchSeconds": 0, "force410": true}; throws std::invalid_argument.
  static FaultConfig from_json(const nlohmann::json& j, FaultConfig base);
  // Parses a flag value "list=0.1,create=0.05" or "0.1" (every verb).
  static std::map<std::string, double> parse_rates(const std::string& text);

 private:
  mutable std::mutex mu_;
  FaultConfig config_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace rc::sim

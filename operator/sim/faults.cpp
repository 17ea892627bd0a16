#include "remotecode/sim/faults.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "remotecode/sim/errors.h"

namespace rc::sim {

void Faults::set(const FaultConfig& c) {
  std::lock_guard lk(mu_);
  config_ = c;
}

FaultConfig Faults::get() const {
  std::lock_guard lk(mu_);
  return config_;
}

static double rate_for(const std::map<std::string, double>& m, const std::string& verb) {
  auto it = m.find(verb);
  if (it != m.end()) return it->second;
  it = m.find("*");
  return it == m.end() ? 0.0 : it->second;
}

void Faults::before_request(const std::string& verb) {
  int latency = 0;
  bool fail500 = false, fail429 = false;
  int retry_after = 1;
  {
    std::lock_guard lk(mu_);
    latency = config_.latency_ms;
    std::uniform_real_distribution<double> dice(0.0, 1.0);
    fail500 = dice(rng_) < rate_for(config_.error_500, verb);
    fail429 = !fail500 && dice(rng_) < rate_for(config_.error_429, verb);
    retry_after = config_.retry_after_seconds;
  }
  if (latency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  if (fail500) throw internal_error("injected fault: the server is failing requests on purpose");
  if (fail429) throw too_many_requests(retry_after);
}

bool Faults::take_forced_410() {
  std::lock_guard lk(mu_);
  bool f = config_.force_410_next_watch;
  config_.force_410_next_watch = false;
  return f;
}

bool Faults::take_unauthorized_watch() {
  std::lock_guard lk(mu_);
  if (config_.unauthorized_watches <= 0) return false;
  --config_.unauthorized_watches;
  return true;
}

int Faults::close_watch_seconds() const {
  std::lock_guard lk(mu_);
  return config_.close_watch_seconds;
}

int Faults::watch_error_code() const {
  std::lock_guard lk(mu_);
  return config_.watch_error_code;
}

bool Faults::stall_watches() const {
  std::lock_guard lk(mu_);
  return config_.stall_watches;
}

bool Faults::blackholed(const std::string& user_agent) const {
  std::lock_guard lk(mu_);
  return !config_.blackhole_user_agent.empty() &&
         user_agent.find(config_.blackhole_user_agent) != std::string::npos;
}

bool Faults::silenced(const std::string& user_agent) const {
  return stall_watches() || blackholed(user_agent);
}

nlohmann::json Faults::to_json() const {
  std::lock_guard lk(mu_);
  return {{"error500", config_.error_500},
          {"error429", config_.error_429},
          {"retryAfterSeconds", config_.retry_after_seconds},
          {"latencyMs", config_.latency_ms},
          {"closeWatchSeconds", config_.close_watch_seconds},
          {"force410", config_.force_410_next_watch},
          {"unauthorizedWatches", config_.unauthorized_watches},
          {"watchErrorCode", config_.watch_error_code},
          {"stallWatches", config_.stall_watches},
          {"blackholeUserAgent", config_.blackhole_user_agent}};
}

FaultConfig Faults::from_json(const nlohmann::json& j, FaultConfig c) {
  if (!j.is_object()) throw std::invalid_argument("faults must be a JSON object");
  auto rates = [](const nlohmann::json& v, const char* field) {
    std::map<std::string, double> m;
    if (v.is_number()) {
      m["*"] = v.get<double>();
    } else if (v.is_object()) {
      for (auto& [k, r] : v.items()) {
        if (!r.is_number())
          throw std::invalid_argument(std::string(field) + "." + k + " must be a number");
        m[k] = r.get<double>();
      }
    } else {
      throw std::invalid_argument(std::string(field) +
                                  " must be a number or an object of verb: rate");
    }
    for (auto& [k, r] : m)
      if (r < 0 || r > 1)
        throw std::invalid_argument(std::string(field) + "." + k + " must be between 0 and 1");
    return m;
  };
  for (auto& [k, v] : j.items()) {
    if (k == "error500")
      c.error_500 = rates(v, "error500");
    else if (k == "error429")
      c.error_429 = rates(v, "error429");
    else if (k == "retryAfterSeconds")
      c.retry_after_seconds = v.get<int>();
    else if (k == "latencyMs")
      c.latency_ms = v.get<int>();
    else if (k == "closeWatchSeconds")
      c.close_watch_seconds = v.get<int>();
    else if (k == "force410")
      c.force_410_next_watch = v.get<bool>();
    else if (k == "unauthorizedWatches")
      c.unauthorized_watches = v.get<int>();
    else if (k == "watchErrorCode") {
      c.watch_error_code = v.get<int>();
      if (c.watch_error_code != 0 && (c.watch_error_code < 400 || c.watch_error_code > 599))
        throw std::invalid_argument("watchErrorCode must be 0 or an HTTP error code");
    } else if (k == "stallWatches")
      c.stall_watches = v.get<bool>();
    else if (k == "blackholeUserAgent")
      c.blackhole_user_agent = v.get<std::string>();
    else
      throw std::invalid_argument("unknown fault setting \"" + k + "\"");
  }
  return c;
}

std::map<std::string, double> Faults::parse_rates(const std::string& text) {
  std::map<std::string, double> m;
  if (text.empty()) return m;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string part = text.substr(start, comma - start);
    auto eq = part.find('=');
    std::string verb = eq == std::string::npos ? "*" : part.substr(0, eq);
    double rate = std::stod(eq == std::string::npos ? part : part.substr(eq + 1));
    if (rate < 0 || rate > 1)
      throw std::invalid_argument("fault rate " + part + " is not between 0 and 1");
    m[verb] = rate;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return m;
}

}  // namespace rc::sim

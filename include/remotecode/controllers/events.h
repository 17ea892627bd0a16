// Kubernetes Events for every decision a controller makes (Created, Admitted, BuildFailed,
// Culled, ...), visible in `kubectl describe` and `kubectl get events`. Repeats of the same
// event on the same object within ten minutes bump its count instead of adding another. Best
// effort: a failed write is logged, never thrown into the reconcile.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/kube/client.h"

namespace rc::controllers {

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<kube::Client> client, std::string component);
  virtual ~EventRecorder() = default;
  // type: "Normal" or "Warning". Events of cluster-scoped objects go to the namespace "default",
  // as client-go's recorder puts them: the apiserver refuses them anywhere else.
  virtual void record(const nlohmann::json& object, const std::string& type,
                      const std::string& reason, const std::string& message);

 private:
  struct Seen {
    std::string name;
    std::string ns;
    int count = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::shared_ptr<kube::Client> client_;
  std::string component_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // uid/type/reason/message -> the Event written
};

}  // namespace rc::controllers

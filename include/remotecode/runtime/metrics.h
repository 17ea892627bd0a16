// Prometheus metrics under the names controller-runtime users already chart
// (controller_runtime_reconcile_total, workqueue_depth, rest_client_requests_total, ...),
// served as text on the metrics address by the same HTTP server the rest of the binary uses.
#pragma once
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "remotecode/kube/client.h"
#include "remotecode/runtime/work_queue.h"

namespace rc::runtime {

class Metrics {
  // Declared first: the metric families below are registered in it as they are constructed.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  // The text exposition format of everything registered.
  std::string render() const;

  void reconcile(const std::string& controller, const std::string& result, double seconds);
  void reconcile_error(const std::string& controller);
  // controller_runtime_terminal_reconcile_errors_total: errors not retried until a change.
  void terminal_reconcile_error(const std::string& controller);
  void set_leader(const std::string& name, bool leading);
  std::shared_ptr<QueueObserver> queue_observer(const std::string& queue_name);
  // rest_client_requests_total{code,method,host}; `host` is the API server's "host:port".
  std::shared_ptr<kube::RequestObserver> request_observer(const std::string& host);

  prometheus::Family<prometheus::Counter>& workqueue_adds;
  prometheus::Family<prometheus::Counter>& workqueue_retries;
  prometheus::Family<prometheus::Gauge>& workqueue_depth;
  prometheus::Family<prometheus::Histogram>& workqueue_queue_duration;
  prometheus::Family<prometheus::Histogram>& workqueue_work_duration;
  prometheus::Family<prometheus::Gauge>& workqueue_unfinished_work;
  prometheus::Family<prometheus::Gauge>& workqueue_longest_running;
  prometheus::Family<prometheus::Counter>& rest_client_requests;

 private:
  prometheus::Family<prometheus::Counter>* reconcile_total_;
  prometheus::Family<prometheus::Counter>* reconcile_errors_;
  prometheus::Family<prometheus::Counter>* terminal_errors_;
  prometheus::Family<prometheus::Histogram>* reconcile_time_;
  prometheus::Family<prometheus::Gauge>* leader_;
};

}  // namespace rc::runtime

#include "remotecode/runtime/metrics.h"

#include <prometheus/text_serializer.h>

namespace rc::runtime {
namespace {

std::shared_ptr<prometheus::Registry> make_registry() {
  return std::make_shared<prometheus::Registry>();
}

// controller-runtime's buckets for reconcile and queue times.
prometheus::Histogram::BucketBoundaries time_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
          0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
          6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
}

// controller-runtime's workqueue buckets: prometheus.ExponentialBuckets(10e-9, 10, 12), 10 ns
// to 1000 s (a key backing off for minutes still lands in a bucket of its own).
prometheus::Histogram::BucketBoundaries queue_buckets() {
  return {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000};
}

class QueueMetrics : public QueueObserver {
 public:
  QueueMetrics(Metrics& m, const std::string& name)
      : adds_(m.workqueue_adds.Add({{"name", name}, {"controller", name}})),
        retries_(m.workqueue_retries.Add({{"name", name}, {"controller", name}})),
        depth_(m.workqueue_depth.Add({{"name", name}, {"controller", name}})),
        queue_(m.workqueue_queue_duration.Add({{"name", name}, {"controller", name}},
                                              queue_buckets())),
        work_(
            m.workqueue_work_duration.Add({{"name", name}, {"controller", name}}, queue_buckets())),
        unfinished_(m.workqueue_unfinished_work.Add({{"name", name}, {"controller", name}})),
        longest_(m.workqueue_longest_running.Add({{"name", name}, {"controller", name}})) {}
  void on_add(const std::string&) noexcept override { adds_.Increment(); }
  void on_depth(std::size_t d) noexcept override { depth_.Set(static_cast<double>(d)); }
  void on_retry(const std::string&) noexcept override { retries_.Increment(); }
  void on_queue_duration(const std::string&, double s) noexcept override { queue_.Observe(s); }
  void on_work_duration(const std::string&, double s) noexcept override { work_.Observe(s); }
  void on_unfinished_work(double unfinished, double longest) noexcept override {
    unfinished_.Set(unfinished);
    longest_.Set(longest);
  }

 private:
  prometheus::Counter& adds_;
  prometheus::Counter& retries_;
  prometheus::Gauge& depth_;
  prometheus::Histogram& queue_;
  prometheus::Histogram& work_;
  prometheus::Gauge& unfinished_;
  prometheus::Gauge& longest_;
};

class RequestMetrics : public kube::RequestObserver {
 public:
  RequestMetrics(Metrics& m, std::string host) : m_(m), host_(std::move(host)) {}
  void on_request(const std::string& method, const std::string& code) override {
    m_.rest_client_requests.Add({{"code", code}, {"method", method}, {"host", host_}}).Increment();
  }

 private:
  Metrics& m_;
  std::string host_;
};

}  // namespace

Metrics::Metrics()
    : registry_(make_registry()),
      workqueue_adds(prometheus::BuildCounter()
                         .Name("workqueue_adds_total")
                         .Help("Total number of adds handled by workqueue")
                         .Register(*registry_)),
      workqueue_retries(prometheus::BuildCounter()
                            .Name("workqueue_retries_total")
                            .Help("Total number of retries handled by workqueue")
                            .Register(*registry_)),
      workqueue_depth(prometheus::BuildGauge()
                          .Name("workqueue_depth")
                          .Help("Current depth of workqueue")
                          .Register(*registry_)),
      workqueue_queue_duration(
          prometheus::BuildHistogram()
              .Name("workqueue_queue_duration_seconds")
              .Help("How long in seconds an item stays in workqueue before being requested")
              .Register(*registry_)),
      workqueue_work_duration(
          prometheus::BuildHistogram()
              .Name("workqueue_work_duration_seconds")
              .Help("How long in seconds processing an item from workqueue takes.")
              .Register(*registry_)),
      workqueue_unfinished_work(prometheus::BuildGauge()
                                    .Name("workqueue_unfinished_work_seconds")
                                    .Help("How many seconds of work has been done that is in "
                                          "progress and hasn't been observed by work_duration.")
                                    .Register(*registry_)),
      workqueue_longest_running(
          prometheus::BuildGauge()
              .Name("workqueue_longest_running_processor_seconds")
              .Help(
                  "How many seconds has the longest running processor for workqueue been running.")
              .Register(*registry_)),
      rest_client_requests(
          prometheus::BuildCounter()
              .Name("rest_client_requests_total")
              .Help("Number of HTTP requests, partitioned by status code, method, and host.")
              .Register(*registry_)) {
  reconcile_total_ = &prometheus::BuildCounter()
                          .Name("controller_runtime_reconcile_total")
                          .Help("Total number of reconciliations per controller")
                          .Register(*registry_);
  reconcile_errors_ = &prometheus::BuildCounter()
                           .Name("controller_runtime_reconcile_errors_total")
                           .Help("Total number of reconciliation errors per controller")
                           .Register(*registry_);
  terminal_errors_ = &prometheus::BuildCounter()
                          .Name("controller_runtime_terminal_reconcile_errors_total")
                          .Help("Total number of terminal reconciliation errors per controller")
                          .Register(*registry_);
  reconcile_time_ = &prometheus::BuildHistogram()
                         .Name("controller_runtime_reconcile_time_seconds")
                         .Help("Length of time per reconciliation per controller")
                         .Register(*registry_);
  leader_ =
      &prometheus::BuildGauge()
           .Name("leader_election_master_status")
           .Help(
               "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
               "backup, 1 indicates master. 'name' is the string used to identify the lease.")
           .Register(*registry_);
}

std::string Metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::reconcile(const std::string& controller, const std::string& result, double seconds) {
  reconcile_total_->Add({{"controller", controller}, {"result", result}}).Increment();
  reconcile_time_->Add({{"controller", controller}}, time_buckets()).Observe(seconds);
}

void Metrics::reconcile_error(const std::string& controller) {
  reconcile_errors_->Add({{"controller", controller}}).Increment();
}

void Metrics::terminal_reconcile_error(const std::string& controller) {
  terminal_errors_->Add({{"controller", controller}}).Increment();
}

void Metrics::set_leader(const std::string& name, bool leading) {
  leader_->Add({{"name", name}}).Set(leading ? 1 : 0);
}

std::shared_ptr<QueueObserver> Metrics::queue_observer(const std::string& queue_name) {
  return std::make_shared<QueueMetrics>(*this, queue_name);
}

std::shared_ptr<kube::RequestObserver> Metrics::request_observer(const std::string& host) {
  return std::make_shared<RequestMetrics>(*this, host);
}

}  // namespace rc::runtime

// How a controller's workers treat what a reconcile throws, and the metrics they leave:
// terminal errors (TerminalError, or the API refusing a request as forbidden or invalid) are
// reported once and not retried; every error counts in controller_runtime_reconcile_errors_total
// (a CacheBehind and a non-std exception too); metrics carry controller-runtime's buckets and the
// API server's host.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "remotecode/kube/api_error.h"
#include "remotecode/runtime/controller.h"
#include "remotecode/runtime/metrics.h"

using namespace std::chrono_literals;

namespace {

// Answers every stream with a 200 and an empty body; nothing else is asked in these tests.
class QuietTransport : public rc::kube::Transport {
 public:
  rc::kube::HttpResponse send(const rc::kube::HttpRequest&) override { return {200, "{}", {}, ""}; }
  rc::kube::HttpResponse stream(const rc::kube::HttpRequest&, const rc::kube::DataSink&,
                                const std::atomic<bool>&) override {
    return {200, "", {}, ""};
  }
  std::string host() const override { return "10.0.0.1:6443"; }
};

std::shared_ptr<rc::kube::Client> quiet_client() {
  return std::make_shared<rc::kube::Client>(std::make_shared<QuietTransport>(),
                                            rc::kube::ClientOptions{});
}

// The value of the series `name{labels}` in the text exposition, or -1.
double series(const std::string& text, const std::string& name_and_labels) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name_and_labels + " ", 0) == 0)
      return std::stod(line.substr(name_and_labels.size() + 1));
  return -1;
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 100 && !done(); ++i) std::this_thread::sleep_for(20ms);
  return done();
}

struct Harness {
  std::shared_ptr<rc::runtime::Metrics> metrics = std::make_shared<rc::runtime::Metrics>();
  std::shared_ptr<rc::runtime::Informer> informer = std::make_shared<rc::runtime::Informer>(
      quiet_client(), rc::kube::ResourceRef{"", "v1", "configmaps", true});
  std::unique_ptr<rc::runtime::Controller> controller;
  std::atomic<int> reconciles{0};

  explicit Harness(std::function<rc::runtime::Result(int attempt)> reconcile) {
    rc::runtime::ControllerOptions co;
    co.workers = 1;
    co.metrics = metrics;
    controller = std::make_unique<rc::runtime::Controller>(
        "c", informer, [this, reconcile](const std::string&) { return reconcile(++reconciles); },
        co);
  }
  ~Harness() { controller->stop(); }
  double metric(const std::string& name) {
    return series(metrics->render(), name + "{controller=\"c\"}");
  }
};

rc::kube::ApiError api_error(int code, const std::string& reason) {
  return rc::kube::ApiError(code,
                            R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" +
                                reason + R"(","message":"refused","code":)" + std::to_string(code) +
                                "}",
                            "PATCH", "/api/v1/namespaces/ns/configmaps/a");
}

TEST(ControllerErrors, ForbiddenAndInvalidAreTerminalNotRetried) {
  for (auto [code, reason] : {std::pair{403, "Forbidden"}, std::pair{422, "Invalid"}}) {
    Harness h([code = code, reason = reason](int) -> rc::runtime::Result {
      throw api_error(code, reason);
    });
    std::mutex mu;
    std::vector<std::string> reported;
    h.controller->on_terminal_error(
        [&](const rc::runtime::ObjectPtr&, const std::string& why, const std::string&) {
          std::lock_guard lk(mu);
          reported.push_back(why);
        });
    h.controller->start();
    h.controller->queue().add("ns/a");
    ASSERT_TRUE(eventually([&] { return h.reconciles.load() >= 1; }));
    std::this_thread::sleep_for(500ms);  // a retry would have come after 5 ms
    EXPECT_EQ(h.reconciles.load(), 1) << code << " was retried";
    {
      std::lock_guard lk(mu);
      EXPECT_EQ(reported, std::vector<std::string>{reason});
    }
    EXPECT_EQ(h.metric("controller_runtime_terminal_reconcile_errors_total"), 1);
    EXPECT_EQ(h.metric("controller_runtime_reconcile_errors_total"), 1);
    // A change of the object brings it back.
    h.controller->queue().add("ns/a");
    EXPECT_TRUE(eventually([&] { return h.reconciles.load() == 2; }));
  }
}

TEST(ControllerErrors, AnExceededQuotaPassesByItselfAndIsNotTerminal) {
  rc::kube::ApiError quota(403,
                           R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                           R"("reason":"Forbidden","message":"persistentvolumeclaims \"w-home\" )"
                           R"(is forbidden: exceeded quota: remote-code","code":403})",
                           "POST", "/api/v1/namespaces/ns/persistentvolumeclaims");
  EXPECT_FALSE(rc::runtime::is_terminal(quota));
  EXPECT_TRUE(rc::runtime::is_terminal(api_error(403, "Forbidden")));
  EXPECT_FALSE(rc::runtime::is_terminal(api_error(409, "Conflict")));
  EXPECT_FALSE(rc::runtime::is_terminal(api_error(500, "InternalError")));
}

TEST(ControllerErrors, ATerminalErrorIsNotRetried) {
  Harness h([](int) -> rc::runtime::Result {
    throw rc::runtime::TerminalError("BadSpec", "the spec can never work");
  });
  h.controller->start();
  h.controller->queue().add("ns/a");
  ASSERT_TRUE(eventually([&] { return h.reconciles.load() >= 1; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(h.reconciles.load(), 1);
  EXPECT_EQ(h.metric("controller_runtime_terminal_reconcile_errors_total"), 1);
}

TEST(ControllerErrors, EveryKindOfErrorIsCountedAndRetried) {
  Harness h([](int attempt) -> rc::runtime::Result {
    if (attempt == 1) throw rc::runtime::CacheBehind("the cache is behind");
    if (attempt == 2) throw 42;
    if (attempt == 3) throw api_error(409, "Conflict");
    return rc::runtime::Result::done();
  });
  h.controller->start();
  h.controller->queue().add("ns/a");
  ASSERT_TRUE(eventually([&] { return h.reconciles.load() == 4; }));
  ASSERT_TRUE(eventually([&] {
    return h.metric("controller_runtime_reconcile_errors_total") == 3;
  })) << h.metrics->render();
  EXPECT_EQ(h.metric("controller_runtime_terminal_reconcile_errors_total"), -1);
}

TEST(Metrics, WorkqueueBucketsReachAThousandSeconds) {
  rc::runtime::Metrics m;
  auto q = m.queue_observer("q");
  q->on_queue_duration("k", 500);
  q->on_work_duration("k", 500);
  std::string text = m.render();
  EXPECT_EQ(
      series(text, R"(workqueue_queue_duration_seconds_bucket{controller="q",name="q",le="100"})"),
      0);
  EXPECT_EQ(
      series(text, R"(workqueue_queue_duration_seconds_bucket{controller="q",name="q",le="1000"})"),
      1);
  EXPECT_EQ(
      series(text, R"(workqueue_work_duration_seconds_bucket{controller="q",name="q",le="1000"})"),
      1);
}

TEST(Metrics, RequestsAndWatchesCarryTheHost) {
  rc::runtime::Metrics m;
  auto client = quiet_client();
  client->set_observer(m.request_observer(client->transport().host()));
  client->request({"GET", "/api/v1/namespaces/ns/configmaps/a"}, true);
  std::atomic<bool> cancel{false};
  client->stream(
      {"GET", "/api/v1/configmaps?watch=true"}, [](std::string_view) { return true; }, cancel);
  EXPECT_EQ(series(m.render(),
                   R"(rest_client_requests_total{code="200",host="10.0.0.1:6443",method="GET"})"),
            2)
      << m.render();
}

}  // namespace

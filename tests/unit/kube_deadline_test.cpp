// The API client against a scripted transport: a request's deadline covers its retries, its
// waits for a token and each attempt's timeout; a watch decodes events however they are split,
// and an ERROR event or an undecodable line ends it as a failure (backed off), a 410 as Expired.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "remotecode/kube/api_error.h"
#include "remotecode/kube/watch.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Fails every request as a broken connection would, after `delay`; streams `chunks`.
class ScriptedTransport : public rc::kube::Transport {
 public:
  std::chrono::milliseconds delay{0};
  std::vector<std::string> chunks;
  std::mutex mu;
  std::vector<long> timeouts;  // HttpRequest::timeout_ms of every attempt

  rc::kube::HttpResponse send(const rc::kube::HttpRequest& req) override {
    {
      std::lock_guard lk(mu);
      timeouts.push_back(req.timeout_ms);
    }
    std::this_thread::sleep_for(delay);
    throw rc::kube::TransportError("connection refused");
  }
  rc::kube::HttpResponse stream(const rc::kube::HttpRequest&, const rc::kube::DataSink& sink,
                                const std::atomic<bool>&) override {
    for (const auto& c : chunks)
      if (!sink(c)) break;
    return {200, "", {}, ""};
  }
};

TEST(ClientDeadline, RetriesEndAtTheDeadline) {
  auto transport = std::make_shared<ScriptedTransport>();
  rc::kube::ClientOptions o;
  o.max_retries = 6;  // 0.2 s doubling: about 13 s of backoff without a deadline
  o.deadline_ms = 1000;
  rc::kube::Client client(transport, o);
  auto started = Clock::now();
  EXPECT_THROW(client.request({"GET", "/api/v1/namespaces"}, true), rc::kube::TransportError);
  EXPECT_LT(Clock::now() - started, 1500ms);
  std::lock_guard lk(transport->mu);
  ASSERT_FALSE(transport->timeouts.empty());
  for (long t : transport->timeouts) EXPECT_LE(t, 1000);
}

TEST(ClientDeadline, AnAttemptNeverOutlivesTheRequestsDeadline) {
  auto transport = std::make_shared<ScriptedTransport>();
  transport->delay = 300ms;
  rc::kube::Client client(transport, {});
  rc::kube::HttpRequest r{"GET", "/api/v1/namespaces"};
  r.deadline = Clock::now() + 700ms;
  auto started = Clock::now();
  EXPECT_THROW(client.request(r, true), rc::kube::TransportError);
  EXPECT_LT(Clock::now() - started, 1200ms);
  std::lock_guard lk(transport->mu);
  // The first attempt got at most what was left (700 ms), not the 30 s default.
  EXPECT_LE(transport->timeouts.front(), 700);
}

TEST(ClientDeadline, NoTokenWaitPastTheDeadline) {
  auto transport = std::make_shared<ScriptedTransport>();
  rc::kube::ClientOptions o;
  o.qps = 0.01;  // one token per 100 s
  o.burst = 1;
  rc::kube::Client client(transport, o);
  client.acquire_token();
  auto started = Clock::now();
  EXPECT_THROW(client.acquire_token(Clock::now() + 200ms), rc::kube::TransportError);
  EXPECT_LT(Clock::now() - started, 100ms) << "it gave up at once instead of sleeping";
}

struct WatchRun {
  rc::kube::WatchEnd end;
  std::vector<std::string> types;
  std::string rv;
};

WatchRun watch(std::vector<std::string> chunks) {
  auto transport = std::make_shared<ScriptedTransport>();
  transport->chunks = std::move(chunks);
  rc::kube::ClientOptions o;
  o.qps = 0;
  rc::kube::Client client(transport, o);
  WatchRun run;
  std::atomic<bool> cancel{false};
  run.end = rc::kube::watch_once(
      client, {"", "v1", "configmaps", true}, "ns", {}, run.rv,
      [&](const rc::kube::WatchEvent& ev) { run.types.push_back(ev.type); }, cancel);
  return run;
}

const std::string kAdded =
    R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"5"}}})"
    "\n";

TEST(Watch, EventsSplitAnywhereAreDecoded) {
  auto run = watch({kAdded.substr(0, 7), kAdded.substr(7, 30), kAdded.substr(37)});
  EXPECT_EQ(run.end, rc::kube::WatchEnd::Closed);
  EXPECT_EQ(run.types, std::vector<std::string>{"ADDED"});
  EXPECT_EQ(run.rv, "5");
}

TEST(Watch, AnErrorEventOtherThan410IsAFailure) {
  auto run = watch({kAdded, R"({"type":"ERROR","object":{"kind":"Status","code":500}})"
                            "\n"});
  EXPECT_EQ(run.end, rc::kube::WatchEnd::Failed);
  EXPECT_EQ(run.rv, "5");
  EXPECT_EQ(watch({R"({"type":"ERROR","object":{"kind":"Status","code":410}})"
                   "\n"})
                .end,
            rc::kube::WatchEnd::Expired);
}

TEST(Watch, AnOddLineIsAFailureNotACrash) {
  for (std::string odd : {"not json\n", "[1,2]\n",
                          R"({"type":"ADDED","object":"x"})"
                          "\n",
                          R"({"type":7,"object":{}})"
                          "\n",
                          R"({"type":"ERROR","object":[]})"
                          "\n"}) {
    auto run = watch({odd});
    EXPECT_EQ(run.end, rc::kube::WatchEnd::Failed) << odd;
    EXPECT_TRUE(run.types.empty()) << odd;
  }
}

TEST(Watch, IdleLimitFollowsTheBookmarkInterval) {
  rc::kube::WatchOptions o;
  o.timeout_seconds = 600;
  EXPECT_EQ(rc::kube::idle_limit_seconds(o), 90);
  o.timeout_seconds = 10;
  EXPECT_EQ(rc::kube::idle_limit_seconds(o), 40);
  o.bookmarks = false;
  o.timeout_seconds = 600;
  EXPECT_EQ(rc::kube::idle_limit_seconds(o), 630);
  o.idle_timeout_seconds = 5;
  EXPECT_EQ(rc::kube::idle_limit_seconds(o), 5);
}

}  // namespace

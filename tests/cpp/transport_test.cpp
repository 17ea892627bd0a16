// The curl transport against an in-process `remote-code sim`: an exception thrown by a stream's
// sink never crosses libcurl, a refused stream's body never reaches the sink, and the
// kubeconfig's tls-server-name is the name the server's certificate is checked against.
#include <gtest/gtest.h>

#include "remotecode/kube/api_error.h"
#include "sim_fixture.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};

class Transport : public rc::testing::SimTest {
 protected:
  // A watch with initial events, so the sink is called at once.
  static rc::kube::HttpRequest watch_request() {
    rc::kube::HttpRequest r{
        "GET", kConfigMaps.collection_path("default") + "?watch=true&timeoutSeconds=5"};
    r.timeout_ms = 0;
    return r;
  }
};

TEST_F(Transport, AnExceptionInTheSinkBecomesATransportError) {
  start_sim();
  admin_->create(kConfigMaps, "default", {{"metadata", {{"name", "a"}}}});
  std::atomic<bool> cancel{false};
  try {
    admin_->transport().stream(
        watch_request(), [](std::string_view) -> bool { throw std::out_of_range("an odd event"); },
        cancel);
    FAIL() << "expected a TransportError";
  } catch (const rc::kube::TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("an odd event"), std::string::npos) << e.what();
  }
  // Not even an exception that is not a std::exception crosses the C frames.
  EXPECT_THROW(admin_->transport().stream(
                   watch_request(), [](std::string_view) -> bool { throw 42; }, cancel),
               rc::kube::TransportError);
  // The transport is still usable.
  EXPECT_EQ(admin_->get(kConfigMaps, "default", "a")["metadata"]["name"], "a");
}

TEST_F(Transport, ARetriedUnauthorizedStreamFeedsTheSinkOnlyTheGoodAttempt) {
  start_sim();
  admin_->create(kConfigMaps, "default", {{"metadata", {{"name", "a"}}}});
  faults({{"unauthorizedWatches", 1}});
  std::string seen;
  std::atomic<bool> cancel{false};
  auto res = admin_->transport().stream(
      watch_request(),
      [&](std::string_view chunk) {
        seen.append(chunk);
        return seen.find('\n') == std::string::npos;  // one event is enough
      },
      cancel);
  EXPECT_EQ(res.status, 200);
  // The 401's Status was not streamed: the sink starts with the first event.
  EXPECT_EQ(seen.rfind("{\"type\":\"ADDED\"", 0), 0u) << seen.substr(0, 200);
}

TEST_F(Transport, TlsServerNameIsTheNameTheCertificateIsCheckedAgainst) {
  start_sim();
  rc::kube::ClientOptions co;
  co.max_retries = 0;
  auto named = config_;
  named.tls_server_name = "remote-code-sim";  // in the simulator's certificate
  auto good = rc::kube::Client::connect(named, co);
  EXPECT_NO_THROW(good->list(kConfigMaps, "default"));
  EXPECT_EQ(good->transport().host(), admin_->transport().host());

  auto wrong = config_;
  wrong.tls_server_name = "not-the-server.invalid";
  auto bad = rc::kube::Client::connect(wrong, co);
  EXPECT_THROW(bad->list(kConfigMaps, "default"), rc::kube::TransportError);
}

TEST_F(Transport, TheHostIsTheServersHostAndPort) {
  start_sim();
  std::string host = admin_->transport().host();
  EXPECT_EQ(host.rfind("127.0.0.1:", 0), 0u) << host;
  EXPECT_EQ(config_.server, "https://" + host);
}

}  // namespace

// The real client and informer against an in-process `remote-code sim` over HTTPS: requests,
// errors, retries under injected faults, and watches that lose nothing through drops and 410s.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "remotecode/kube/client.h"
#include "remotecode/runtime/informer.h"
#include "remotecode/sim/simulator.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const rc::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const rc::kube::ResourceRef kNamespaces{"", "v1", "namespaces", false};

class SimFixture : public ::testing::Test {
 protected:
  void start(size_t history = 10000, int bookmark_seconds = 60) {
    dir_ = std::filesystem::temp_directory_path() /
           ("rc-cpp-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    rc::sim::SimulatorOptions o;
    o.kubeconfig_out = (dir_ / "kubeconfig").string();
    o.history = history;
    o.bookmark_interval_seconds = bookmark_seconds;
    o.cluster.pod_start_seconds = 0.1;
    sim_ = std::make_unique<rc::sim::Simulator>(o);
    sim_->start();
    config_ = rc::kube::load_kubeconfig(o.kubeconfig_out);
    rc::kube::ClientOptions co;
    co.qps = 0;  // the tests measure the server, not the limiter
    co.user_agent = "client-informer-test";
    client_ = rc::kube::Client::connect(config_, co);
  }
  void TearDown() override {
    client_.reset();
    if (sim_) sim_->stop();
    std::filesystem::remove_all(dir_);
  }
  void faults(const json& f) {
    rc::kube::HttpRequest r{"PUT", "/sim/faults", f.dump(), "application/json"};
    client_->request(r, true);
  }
  void create_namespace(const std::string& name) {
    client_->create(kNamespaces, "", {{"metadata", {{"name", name}}}});
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<rc::sim::Simulator> sim_;
  rc::kube::ClusterConfig config_;
  std::shared_ptr<rc::kube::Client> client_;
};

TEST_F(SimFixture, RequestsAndTypedErrors) {
  start();
  auto cm = client_->create(kConfigMaps, "default",
                            {{"metadata", {{"name", "a"}}}, {"data", {{"k", "1"}}}});
  EXPECT_EQ(cm["metadata"]["name"], "a");
  auto got = client_->get(kConfigMaps, "default", "a");
  EXPECT_EQ(got["data"]["k"], "1");

  try {
    client_->create(kConfigMaps, "default", {{"metadata", {{"name", "a"}}}});
    FAIL() << "expected AlreadyExists";
  } catch (const rc::kube::ApiError& e) {
    EXPECT_TRUE(e.already_exists()) << e.what();
    EXPECT_EQ(e.status()["details"]["name"], "a");
  }
  json stale = got;
  got["data"]["k"] = "2";
  client_->update(kConfigMaps, got);
  stale["data"]["k"] = "3";
  try {
    client_->update(kConfigMaps, stale);
    FAIL() << "expected Conflict";
  } catch (const rc::kube::ApiError& e) {
    EXPECT_TRUE(e.conflict());
    EXPECT_EQ(e.reason(), "Conflict");
  }
  auto patched = client_->patch(kConfigMaps, "default", "a", rc::kube::PatchType::Merge,
                                {{"data", {{"m", "x"}}}});
  EXPECT_EQ(patched["data"], json({{"k", "2"}, {"m", "x"}}));
  auto applied =
      client_->apply(kConfigMaps, {{"apiVersion", "v1"},
                                   {"kind", "ConfigMap"},
                                   {"metadata", {{"name", "b"}, {"namespace", "default"}}},
                                   {"data", {{"owner", "us"}}}});
  EXPECT_EQ(applied["data"]["owner"], "us");
  EXPECT_EQ(applied["metadata"]["managedFields"][0]["manager"], "remote-code");

  for (int i = 0; i < 7; ++i)
    client_->create(kConfigMaps, "default",
                    {{"metadata", {{"name", "page-" + std::to_string(i)}}}});
  rc::kube::ListOptions lo;
  lo.limit = 3;  // forces four pages
  auto all = client_->list(kConfigMaps, "default", lo);
  // a, b, the seven pages, and kube-root-ca.crt, which every namespace has
  EXPECT_EQ(all.items.size(), 10u);
  EXPECT_EQ(all.items[0]["kind"], "ConfigMap");
  EXPECT_FALSE(all.resource_version.empty());

  client_->remove(kConfigMaps, "default", "a");
  try {
    client_->get(kConfigMaps, "default", "a");
    FAIL() << "expected NotFound";
  } catch (const rc::kube::ApiError& e) {
    EXPECT_TRUE(e.not_found());
    EXPECT_STREQ(e.what(),
                 "GET /api/v1/namespaces/default/configmaps/a: 404 configmaps \"a\" not found");
  }
}

struct CountingObserver : rc::kube::RequestObserver {
  std::atomic<int> ok{0}, errors{0};
  void on_request(const std::string&, const std::string& code) override {
    (code[0] == '2' ? ok : errors)++;
  }
};

TEST_F(SimFixture, RetriesThroughInjected500sAnd429s) {
  start();
  auto obs = std::make_shared<CountingObserver>();
  client_->set_observer(obs);
  client_->create(kConfigMaps, "default", {{"metadata", {{"name", "steady"}}}});
  // Rates low enough that 7 failures in a row (the client gives up after 6 retries) are rare:
  // at 0.5 per GET a run of 20 GETs failed about once in 20 runs, a test flaking, not the client.
  faults({{"error500", {{"get", 0.2}, {"list", 0.3}}},
          {"error429", {{"get", 0.1}}},
          {"retryAfterSeconds", 0}});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(client_->get(kConfigMaps, "default", "steady")["metadata"]["name"], "steady");
    EXPECT_GE(client_->list(kConfigMaps, "default").items.size(), 1u);
  }
  EXPECT_GT(obs->errors.load(), 0) << "the faults were injected";
  faults({{"error500", {{"create", 1.0}}}});
  // A create is not retried after a 500: it might have happened.
  int before = obs->errors.load();
  EXPECT_THROW(client_->create(kConfigMaps, "default", {{"metadata", {{"name", "once"}}}}),
               rc::kube::ApiError);
  EXPECT_EQ(obs->errors.load(), before + 1);
  faults(json::object());
}

// 2,000 changes while every watch is closed after a second and 410s are forced: the cache must
// end equal to a fresh list, and the informer must have listed again (it did not just get lucky).
TEST_F(SimFixture, InformerLosesNothingThroughDropsAnd410s) {
  start(/*history=*/300, /*bookmark_seconds=*/1);
  create_namespace("stress");
  rc::runtime::InformerOptions io;
  io.namespace_name = "stress";
  io.watch_timeout_seconds = 5;
  rc::runtime::Informer informer(client_, kConfigMaps, io);
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  informer.add_handlers({[&](const auto&) { ++adds; }, [&](const auto&, const auto&) { ++updates; },
                         [&](const auto&) { ++deletes; }});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  faults({{"closeWatchSeconds", 1}});

  rc::kube::ClientOptions unlimited;
  unlimited.qps = 0;
  auto writer = rc::kube::Client::connect(config_, unlimited);
  int changes = 0;
  for (int i = 0; changes < 2000; ++i) {
    std::string name = "cm-" + std::to_string(i % 150);
    try {
      if (i % 7 == 6) {
        writer->remove(kConfigMaps, "stress", name);
      } else {
        writer->apply(kConfigMaps, {{"apiVersion", "v1"},
                                    {"kind", "ConfigMap"},
                                    {"metadata", {{"name", name}, {"namespace", "stress"}}},
                                    {"data", {{"i", std::to_string(i)}}}});
      }
      ++changes;
    } catch (const rc::kube::ApiError& e) {
      ASSERT_TRUE(e.not_found()) << e.what();
    }
    if (i % 400 == 0) {
      // The next watch (within a second, as watches are closed every second) gets a 410: wait
      // for the relist so it happens in the middle of the writes, not after them.
      auto lists = informer.lists();
      faults({{"closeWatchSeconds", 1}, {"force410", true}});
      for (int w = 0; w < 100 && informer.lists() == lists; ++w) std::this_thread::sleep_for(50ms);
      ASSERT_GT(informer.lists(), lists) << "the forced 410 made the informer list again";
    }
  }
  faults(json::object());

  auto fresh = writer->list(kConfigMaps, "stress");
  std::map<std::string, std::string> want;
  for (const auto& o : fresh.items) want[o["metadata"]["name"]] = o["metadata"]["resourceVersion"];
  std::map<std::string, std::string> have;
  for (int waited = 0; waited < 200; ++waited) {
    have.clear();
    for (const auto& o : informer.store().list())
      have[(*o)["metadata"]["name"]] = (*o)["metadata"]["resourceVersion"];
    if (have == want) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(have, want);
  EXPECT_GT(informer.lists(), 1) << "a forced 410 makes the informer list again";
  EXPECT_GT(adds.load(), 0);
  EXPECT_GT(updates.load(), 0);
  EXPECT_GT(deletes.load(), 0);
  informer.stop();
}

TEST(LineDecoder, EventsSplitAcrossChunks) {
  rc::kube::LineDecoder d;
  std::vector<std::string> lines;
  auto sink = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  std::string stream =
      "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\",\"x\":\"a\\nb\"}\n\n{\"type\":\"DELETED\"}\n";
  // Every split point, including inside a multi-byte escape and right at the newline.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    lines.clear();
    rc::kube::LineDecoder fresh;
    fresh.feed(std::string_view(stream).substr(0, cut), sink);
    fresh.feed(std::string_view(stream).substr(cut), sink);
    ASSERT_EQ(lines.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(lines[1], "{\"type\":\"MODIFIED\",\"x\":\"a\\nb\"}");
    EXPECT_EQ(fresh.pending(), 0u);
  }
  lines.clear();
  d.feed("{\"partial\":", sink);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(d.pending(), 11u);
}

}  // namespace

namespace {

// A client certificate signed by the simulator's CA authenticates without a token, and a
// kubeconfig naming a CA file is honoured: the variants a cluster admin's kubeconfig uses.
TEST_F(SimFixture, ClientCertificateAndCaFileKubeconfig) {
  start();
  auto pki = dir_ / "pki";
  std::filesystem::create_directories(pki);
  // The simulator wrote no PKI folder in this fixture: make one from its CA via a second run.
  rc::sim::SimulatorOptions o;
  o.kubeconfig_out = (dir_ / "kc2").string();
  o.pki_out = pki.string();
  rc::sim::Simulator sim2(o);
  sim2.start();
  auto base = rc::kube::load_kubeconfig(o.kubeconfig_out);
  std::string kc =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + base.server +
      "\n    certificate-authority: pki/ca.crt\nusers:\n- name: u\n  user:\n    "
      "client-certificate: "
      "pki/client.crt\n    client-key: pki/client.key\ncontexts:\n- name: x\n  context: {cluster: "
      "c, user: u}\n"
      "current-context: x\n";
  std::ofstream(dir_ / "cert-kubeconfig") << kc;
  auto cfg = rc::kube::load_kubeconfig((dir_ / "cert-kubeconfig").string());
  EXPECT_TRUE(cfg.token.empty());
  auto client = rc::kube::Client::connect(cfg, {});
  auto ns = client->get(kNamespaces, "", "default");
  EXPECT_EQ(ns["metadata"]["name"], "default");
  // Without credentials the same server says 401.
  std::string anon =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + base.server +
      "\n    certificate-authority: pki/ca.crt\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: "
      "x\n"
      "  context: {cluster: c, user: u}\ncurrent-context: x\n";
  std::ofstream(dir_ / "anon-kubeconfig") << anon;
  auto anon_client =
      rc::kube::Client::connect(rc::kube::load_kubeconfig((dir_ / "anon-kubeconfig").string()), {});
  try {
    anon_client->get(kNamespaces, "", "default");
    FAIL() << "expected 401";
  } catch (const rc::kube::ApiError& e) {
    EXPECT_EQ(e.code(), 401);
  }
  sim2.stop();
}

}  // namespace

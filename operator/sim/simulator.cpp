#include "remotecode/sim/simulator.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "remotecode/util/encoding.h"
#include "remotecode/util/private_file.h"

namespace rc::sim {

using util::write_private_file;

Simulator::Simulator(SimulatorOptions options) : options_(std::move(options)) {
  if (options_.token.empty()) options_.token = util::random_hex(24);
}

Simulator::~Simulator() {
  stop();
}

std::string Simulator::url() const {
  std::string host = server_ ? server_->host() : "127.0.0.1";
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(options_.insecure_http ? "http" : "https") + "://" + host + ":" +
         std::to_string(server_ ? server_->port() : 0);
}

std::string Simulator::kubeconfig() const {
  std::string cluster = "    server: " + url() + "\n";
  if (!options_.insecure_http)
    cluster += "    certificate-authority-data: " + util::base64_encode(ca_.cert_pem) + "\n";
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: remote-code-sim\n"
         "  cluster:\n" +
         cluster +
         "users:\n"
         "- name: remote-code-sim-admin\n"
         "  user:\n"
         "    token: " +
         options_.token +
         "\n"
         "contexts:\n"
         "- name: remote-code-sim\n"
         "  context:\n"
         "    cluster: remote-code-sim\n"
         "    user: remote-code-sim-admin\n"
         "    namespace: default\n"
         "current-context: remote-code-sim\n";
}

void Simulator::start() {
  store_ = std::make_unique<Store>(options_.history);
  types_ = std::make_unique<TypeRegistry>();
  if (!options_.state_file.empty()) {
    state_ = std::make_unique<StateFile>(options_.state_file);
    if (auto n = state_->load(*store_, *types_))
      spdlog::info("sim: loaded {} objects from {}", *n, options_.state_file);
  }
  api_ = std::make_unique<Api>(*store_, *types_);
  faults_.set(options_.faults);
  ApiServerOptions ro;
  ro.token = options_.token;
  ro.openapi_dir = options_.openapi_dir;
  ro.bookmark_interval_seconds = options_.bookmark_interval_seconds;
  rest_ = std::make_unique<ApiServer>(*api_, faults_, pod_scripts_, ro);
  if (!options_.insecure_http) {
    ca_ = http::make_ca("remote-code-sim-ca");
    options_.cluster.root_ca_pem = ca_.cert_pem;
  }
  cluster_ = std::make_unique<Cluster>(*api_, options_.cluster, &pod_scripts_);
  rest_->set_log_source(
      [this](const LogRequest& r) { return cluster_->pod_log(r); },
      [this](const LogRequest& r, const std::function<bool(const std::string&)>& w) {
        cluster_->follow_pod_log(r, w);
      });

  auto [host, port] = http::parse_listen_address(options_.listen);
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  if (!options_.insecure_http) {
    std::vector<std::string> ips = {"127.0.0.1", "::1"};
    if (host != "0.0.0.0" && host != "127.0.0.1" && host != "::1" && host != "::")
      ips.push_back(host);
    auto leaf = http::make_server_cert(ca_, {"localhost", "remote-code-sim"}, ips);
    so.tls = http::TlsIdentity{leaf.cert_pem, leaf.key_pem, ca_.cert_pem};
  }
  server_ =
      std::make_unique<http::Server>(so, [this](http::Request& r) { return rest_->handle(r); });
  server_->start();
  std::string addr = host == "0.0.0.0" ? "127.0.0.1" : host;
  rest_->set_server_address(addr + ":" + std::to_string(server_->port()));
  cluster_->start();
  if (state_) state_->start(*store_, std::chrono::seconds(2));
  if (!options_.kubeconfig_out.empty()) write_private_file(options_.kubeconfig_out, kubeconfig());
  if (!options_.pki_out.empty() && !options_.insecure_http) {
    auto client = http::make_client_cert(ca_, "sim-admin", {"system:masters"});
    write_private_file(options_.pki_out + "/ca.crt", ca_.cert_pem);
    write_private_file(options_.pki_out + "/client.crt", client.cert_pem);
    write_private_file(options_.pki_out + "/client.key", client.key_pem);
  }
}

void Simulator::stop() {
  if (rest_) rest_->stop();
  if (server_) server_->stop();
  if (cluster_) cluster_->stop();
  // Last: nothing changes the objects any more. Dropping it frees the file for a successor.
  if (state_) state_->stop();
  state_.reset();
}

}  // namespace rc::sim

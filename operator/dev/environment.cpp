#include "remotecode/dev/environment.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "remotecode/controllers/children.h"
#include "remotecode/controllers/template.h"
#include "remotecode/controllers/trainingjob.h"
#include "remotecode/controllers/workspace.h"
#include "remotecode/dev/embedded.h"
#include "remotecode/kube/config.h"
#include "remotecode/sim/yaml_json.h"
#include "remotecode/util/encoding.h"
#include "remotecode/util/private_file.h"

namespace rc::dev {

using nlohmann::json;

namespace {

const kube::ResourceRef kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const kube::ResourceRef kNamespaces{"", "v1", "namespaces", false};

bool established(const json& crd) {
  for (const auto& c : crd.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
  return false;
}

}  // namespace

Environment::Environment(DevOptions options) : options_(std::move(options)) {}

Environment::~Environment() {
  stop();
}

std::string Environment::kubeconfig_path() const {
  return (std::filesystem::path(options_.state_dir) / "kubeconfig").string();
}

std::string Environment::api_url() const {
  return sim_ ? sim_->url() : "";
}

void Environment::start() {
  // The kubeconfig, the admin's password and the cluster's Secrets live here.
  util::make_private_dir(options_.state_dir);
  options_.sim.kubeconfig_out = kubeconfig_path();
  options_.sim.state_file = (std::filesystem::path(options_.state_dir) / "cluster.json").string();
  sim_ = std::make_unique<sim::Simulator>(options_.sim);
  sim_->start();

  kube::ClientOptions co;
  co.qps = 0;  // one process, one simulator: no client-side throttling needed
  client_ = kube::Client::connect(kube::load_config(kubeconfig_path(), ""), co);
  apply_embedded_manifests();

  runtime::ManagerOptions mo;
  mo.metrics_bind_address = "0";
  mo.health_probe_bind_address = "0";
  mo.workers = options_.workers;
  manager_ = std::make_unique<runtime::Manager>(client_, mo);
  auto events = std::make_shared<controllers::EventRecorder>(client_, "remote-code");
  controllers::add_template_controller(*manager_, options_.controllers, events);
  controllers::add_workspace_controller(*manager_, options_.controllers, events);
  controllers::add_trainingjob_controller(*manager_, options_.controllers, events);
  admin_password_ = read_or_make_admin_password();
  options_.portal.initial_admins = {admin_user()};
  options_.portal.initial_admin_password = admin_password_;
  if (options_.portal.datasets_dir.empty())
    options_.portal.datasets_dir =
        (std::filesystem::path(options_.state_dir) / "datasets").string();
  portal_ = std::make_unique<portal::Portal>(*manager_, options_.controllers, options_.portal);
  manager_->start();
  portal_->start();
}

std::string Environment::read_or_make_admin_password() const {
  auto path = std::filesystem::path(options_.state_dir) / "admin-password";
  std::string password;
  if (std::ifstream in(path); in) std::getline(in, password);
  if (password.size() >= 8) return password;
  password = util::random_hex(12);
  util::write_private_file(path.string(), password + "\n");
  return password;
}

std::string Environment::portal_url() const {
  if (!portal_ || portal_->port() == 0) return "";
  auto [host, port] = http::parse_listen_address(options_.portal.bind_address);
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  return "http://" + host + ":" + std::to_string(portal_->port()) + "/";
}

void Environment::apply_embedded_manifests() {
  std::vector<json> crds, others;
  for (const auto& f : embedded_files()) {
    for (auto& doc : sim::yaml_documents_to_json(std::string(f.text))) {
      if (doc.value("kind", "") == "CustomResourceDefinition")
        crds.push_back(std::move(doc));
      else
        others.push_back(std::move(doc));
    }
  }
  for (const auto& crd : crds) client_->apply(kCrds, crd);
  for (const auto& crd : crds) {
    std::string name = crd["metadata"].value("name", "");
    for (int i = 0; !established(client_->get(kCrds, "", name)); ++i) {
      if (i > 100) throw std::runtime_error("CRD " + name + " did not become Established");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  client_->apply(kNamespaces, {{"apiVersion", "v1"},
                               {"kind", "Namespace"},
                               {"metadata", {{"name", options_.controllers.namespace_name}}}});
  for (const auto& obj : others) {
    std::string kind = obj.value("kind", "");
    if (kind == "Template") {
      client_->apply(controllers::refs::templates(), obj);
    } else {
      spdlog::warn("dev: not applying embedded {} (only CRDs and Templates are)", kind);
    }
  }
}

void Environment::stop() {
  if (portal_) portal_->stop();
  if (manager_) manager_->stop();
  portal_.reset();
  manager_.reset();
  client_.reset();
  if (sim_) sim_->stop();
  sim_.reset();
}

}  // namespace rc::dev

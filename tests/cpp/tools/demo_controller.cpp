#include "demo_controller.h"

#include "remotecode/util/encoding.h"

namespace rc::testing {

using nlohmann::json;

void add_demo_controller(runtime::Manager& manager, const std::string& ns,
                         const std::string& identity) {
  const kube::ResourceRef configmaps{"", "v1", "configmaps", true};
  const kube::ResourceRef secrets{"", "v1", "secrets", true};
  runtime::InformerOptions io;
  io.namespace_name = ns;
  io.label_selector = "demo=yes";
  auto cms = manager.informer(configmaps, io);
  runtime::InformerOptions so;
  so.namespace_name = ns;
  auto secs = manager.informer(secrets, so);
  auto client = manager.client();
  manager
      .add_controller("demo", cms,
                      [cms, secs, client, secrets, identity](const std::string& key) {
                        auto cm = cms->store().get(key);
                        if (!cm) return runtime::Result::done();  // gone: the GC takes the Secret
                        const auto& md = (*cm)["metadata"];
                        json want_data = (*cm).value("data", json::object());
                        // Nothing is written when the cached child already matches (data is
                        // base64).
                        json want_b64 = json::object();
                        for (auto& [k, v] : want_data.items())
                          want_b64[k] = util::base64_encode(v.get<std::string>());
                        auto have = secs->store().get(key);
                        if (have && (*have).value("data", json::object()) == want_b64)
                          return runtime::Result::done();
                        json secret = {
                            {"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata",
                             {{"name", md.value("name", "")},
                              {"namespace", md.value("namespace", "")},
                              {"annotations", {{"demo/reconciled-by", identity}}},
                              {"ownerReferences", json::array({{{"apiVersion", "v1"},
                                                                {"kind", "ConfigMap"},
                                                                {"name", md.value("name", "")},
                                                                {"uid", md.value("uid", "")},
                                                                {"controller", true},
                                                                {"blockOwnerDeletion", true}}})}}},
                            {"stringData", want_data}};
                        client->apply(secrets, secret);
                        return runtime::Result::done();
                      })
      .owns(secs, "ConfigMap");
}

}  // namespace rc::testing

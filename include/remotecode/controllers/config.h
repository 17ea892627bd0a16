// What the operator's flags decide for every controller: where builds push, how Ingresses are
// exposed, how GPU slices are requested, queue limits and notifications. Render functions read
// it; nothing in it changes while the operator runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rc::controllers {

enum class GpuSharing { None, Mig, Hami };

struct OperatorConfig {
  // The operator's own namespace: template build Jobs and share-link Secrets live here.
  std::string namespace_name = "remote-code-system";

  // --- template builds (--builder-image, --registry, --registry-push-secret, ...) ---
  std::string builder_image = "gcr.io/kaniko-project/executor:v1.23.2";
  // Images are pushed to <registry>/<template name>:<build hash>.
  std::string registry = "registry.remote-code-system.svc:5000/remote-code";
  std::string registry_push_secret;  // a kubernetes.io/dockerconfigjson Secret in namespace_name
  bool insecure_registry = false;
  std::string default_base_image = "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04";

  // --- workspaces ---
  std::string git_image = "alpine/git:2.45.2";  // clones repositories (init containers)
  std::string ingress_class = "nginx";
  std::string ingress_host;        // "" serves every host
  std::string ingress_tls_secret;  // "" means plain HTTP
  // The portal's forward-auth endpoint and sign-in page, as ingress-nginx's auth-url/auth-signin.
  std::string auth_url = "http://remote-code-portal.remote-code-system.svc:8080/auth/workspace";
  std::string auth_signin_url = "/login?rd=$escaped_request_uri";
  // The NetworkPolicy lets pods of this namespace in (the ingress controller's).
  std::string ingress_namespace = "ingress-nginx";
  std::string storage_class;  // "" uses the cluster default
  // A PVC of this name in the workspace's (or job's) namespace is mounted read-only at /data.
  std::string datasets_claim = "remote-code-datasets";

  // --- GPUs ---
  GpuSharing gpu_sharing = GpuSharing::None;
  // MIG profiles the nodes offer, smallest first ("1g.10gb"): gpuMemoryMiB picks the first that
  // is large enough, as resource nvidia.com/mig-<profile>.
  std::vector<std::string> mig_profiles = {"1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"};

  // --- training jobs ---
  int max_running_jobs = 0;  // cluster-wide admitted runs; 0 is unlimited
  int metrics_poll_seconds = 30;
  std::string notify_webhook_url;
  std::string smtp_url;  // smtp://host:587 or smtps://host:465
  std::string smtp_from;
  std::string smtp_user;
  std::string smtp_password;  // never logged
  std::string portal_url;     // links in notifications; "" leaves them out
};

}  // namespace rc::controllers

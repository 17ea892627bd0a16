// GET /auth/workspace: ingress-nginx asks this before every request to a workspace (auth-url).
// Only the workspace's owner gets through; a 200 also counts as activity for idle culling.
#include <spdlog/spdlog.h>

#include "remotecode/api/common.h"
#include "remotecode/controllers/children.h"
#include "remotecode/portal/context.h"
#include "remotecode/portal/workspaces.h"
#include "remotecode/util/clock.h"

namespace rc::portal {

using nlohmann::json;

namespace {

constexpr auto kActivityInterval = std::chrono::minutes(1);
const char* const kLastActivityAnnotation = "remotecode.dev/last-activity";

// "<namespace>/<name>" from X-Original-URL ("https://host/w/<ns>/<name>/..."), or "" when the
// path is not a plain workspace path. Dot segments and backslashes are refused in any spelling
// (raw or percent-encoded): the ingress routes the normalised path, so "/w/mine/ws/../../theirs/
// ws/" must not be authorized as "mine" and then routed to "theirs". Without them, the literal
// prefix /w/<ns>/<name>/ is what the ingress routes on, however it decodes the rest.
std::string workspace_key(const std::string& original_url) {
  std::string path = original_url;
  if (auto scheme = path.find("://"); scheme != std::string::npos) {
    auto slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  // Decoded twice, so that double encoding cannot hide a dot segment either.
  std::string decoded = http::percent_decode(http::percent_decode(path));
  if (decoded.find('\\') != std::string::npos) return "";
  std::vector<std::string> parts;
  for (size_t i = 0; i <= decoded.size();) {
    size_t j = decoded.find('/', i);
    if (j == std::string::npos) j = decoded.size();
    std::string seg = decoded.substr(i, j - i);
    if (seg == "." || seg == "..") return "";
    i = j + 1;
  }
  for (size_t i = 1; i <= path.size() && parts.size() < 3;) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (parts.size() < 3 || parts[0] != "w" || !api::is_dns_label(parts[1]) ||
      !api::is_dns_label(parts[2]))
    return "";
  return parts[1] + "/" + parts[2];
}

class ActivityRecorder {
 public:
  // True when the workspace's annotation is due for a refresh (at most once a minute each).
  bool due(const std::string& key) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lk(mu_);
    auto [it, fresh] = last_.try_emplace(key, now);
    if (!fresh && now - it->second < kActivityInterval) return false;
    it->second = now;
    if (last_.size() > 100000) last_.clear();  // bounded; a refresh too many is harmless
    return true;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_;
};

}  // namespace

void add_forward_auth_routes(Router& router, Context& ctx) {
  auto recorder = std::make_shared<ActivityRecorder>();
  router.add("GET", "/auth/workspace", Access::Public, [&ctx, recorder](Call& call) {
    if (!call.principal) return error_response(401, "unauthorized", "sign in first");
    std::string key = workspace_key(call.request.header("X-Original-URL"));
    auto ws = key.empty() ? nullptr : ctx.informers.workspaces->store().get(key);
    // An unknown workspace is refused like someone else's, so names cannot be probed.
    if (!ws || workspace_owner(ctx, *ws) != call.who().user)
      return error_response(403, "forbidden", "this workspace is not yours");
    if (recorder->due(key)) {
      const json& md = ws->at("metadata");
      try {
        ctx.client->patch(
            controllers::refs::workspaces(), md.value("namespace", ""), md.value("name", ""),
            kube::PatchType::Merge,
            {{"metadata", {{"annotations", {{kLastActivityAnnotation, util::now_rfc3339()}}}}}});
      } catch (const std::exception& e) {
        spdlog::warn("portal: recording activity of workspace {}: {}", key, e.what());
      }
    }
    http::Response r;
    r.status = 200;
    r.set_header("X-Remote-User", call.who().user);
    r.set_header("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace rc::portal

// Workspace helpers shared by the workspace, share-link and forward-auth routes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace rc::portal {

struct Context;

// The portal user a workspace belongs to: spec.owner, or the user whose namespace it is in.
std::string workspace_owner(const Context& ctx, const nlohmann::json& workspace);
// Creates a validated Workspace object after checking it against its template (400 when it
// does not fit). Templates that require an access key are only for admins and share links
// (`via_share_or_admin`), else 403.
nlohmann::json create_workspace(Context& ctx, const std::string& ns, nlohmann::json obj,
                                bool via_share_or_admin);

}  // namespace rc::portal

// A Template's status for each state the controller can find it in, as pure edits of the
// current status: conditions keep their lastTransitionTime while their status stays, so applying
// the same state twice leaves the status unchanged (and nothing is written).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "remotecode/api/common.h"

namespace rc::controllers::tpl {

// When and for which generation the status is written.
struct StatusStamp {
  int64_t generation = 0;
  std::string now;  // RFC 3339
};

// The spec cannot be used: phase Failed, Valid and Ready False with the error's reason; no
// image is offered, no build runs.
void mark_invalid(nlohmann::json& status, const api::SpecError& error, const StatusStamp& at);
// A ready image (spec.image): phase Ready; no build fields or Built condition.
void mark_image_ready(nlohmann::json& status, const std::string& image, const StatusStamp& at);
// A build of `hash` runs in `job`: phase Building, status.image cleared until it succeeds.
void mark_building(nlohmann::json& status, const std::string& hash, const std::string& job,
                   const StatusStamp& at);
// The build of `hash` pushed `image`: phase Ready, Built and Ready True.
void mark_built(nlohmann::json& status, const std::string& image, const std::string& hash,
                const std::string& job, const StatusStamp& at);
// The build of `hash` failed: phase Failed, Built False (BuildFailed) with `message`.
void mark_build_failed(nlohmann::json& status, const std::string& hash, const std::string& job,
                       const std::string& message, const StatusStamp& at);
// Sets or clears status.shareSecret.
void set_share_secret(nlohmann::json& status, const std::string& secret_name);

}  // namespace rc::controllers::tpl

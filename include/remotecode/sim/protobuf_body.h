// Decodes the Kubernetes protobuf request bodies kubectl's imperative commands send
// (`kubectl create namespace|configmap|secret|serviceaccount`) into JSON objects. Only those
// kinds: anything else is refused with 415 and a message that says what to use instead.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace rc::sim {

bool is_protobuf_body(const std::string& body);
// Throws StatusError 415 for kinds it does not know, 400 for malformed bodies.
nlohmann::json decode_protobuf_body(const std::string& body);

}  // namespace rc::sim

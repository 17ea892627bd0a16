// Every non-2xx answer of the API server becomes one ApiError carrying its metav1.Status, so
// callers branch on the reason (NotFound, AlreadyExists, Conflict, Invalid, Gone, ...).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace rc::kube {

class ApiError : public std::runtime_error {
 public:
  // `body` is the response body: a Status when the server sent one, anything else otherwise.
  ApiError(int http_status, const std::string& body, std::string method = "",
           std::string path = "");
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const nlohmann::json& status() const { return status_; }
  std::optional<int> retry_after_seconds;

  bool not_found() const { return code_ == 404; }
  bool already_exists() const { return code_ == 409 && reason_ == "AlreadyExists"; }
  bool conflict() const { return code_ == 409 && reason_ != "AlreadyExists"; }
  bool invalid() const { return code_ == 422; }
  bool gone() const { return code_ == 410; }
  bool too_many_requests() const { return code_ == 429; }
  bool server_error() const { return code_ >= 500; }

 private:
  int code_;
  std::string reason_;
  nlohmann::json status_;
};

// A failure below HTTP: refused connection, TLS, timeout, a dropped stream.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rc::kube

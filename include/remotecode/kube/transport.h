// The one way bytes reach the API server: HTTP requests and streamed responses over libcurl,
// with the cluster's TLS settings and credentials (refreshed after a 401). Tests talk to
// `remote-code sim` through this same transport.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "remotecode/kube/config.h"

namespace rc::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // path and query, e.g. "/api/v1/namespaces/x/pods?limit=500"
  std::string body;
  std::string content_type;
  std::string accept = "application/json";
  long timeout_ms = 30000;  // whole request; 0 for none (watches end by their own timeout)
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// Receives a streamed body as it arrives; returning false stops the stream.
using DataSink = std::function<bool(std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws TransportError when no HTTP answer came back.
  virtual HttpResponse send(const HttpRequest& req) = 0;
  // The body goes to `sink`, not into the response. Ends when the server closes the stream, the
  // sink says stop, or `cancel` becomes true (noticed within a second).
  virtual HttpResponse stream(const HttpRequest& req, const DataSink& sink,
                              const std::atomic<bool>& cancel) = 0;
};

std::shared_ptr<Transport> make_curl_transport(const ClusterConfig& config,
                                               std::shared_ptr<Credentials> credentials,
                                               std::string user_agent);

}  // namespace rc::kube

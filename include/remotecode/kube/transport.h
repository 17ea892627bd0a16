// The one way bytes reach the API server: HTTP requests and streamed responses over libcurl,
// with the cluster's TLS settings and credentials (refreshed after a 401). Tests talk to
// `remote-code sim` through this same transport.
#pragma once
#include <atomic>
#include <chrono>
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
  // Streams only: no byte for this long means the connection is dead (half-open); 0: no check.
  // Whole seconds count (libcurl's low-speed check).
  long idle_timeout_ms = 0;
  // Client::request only: when this request and all its retries must be over. Unset: now plus
  // ClientOptions::deadline_ms.
  std::chrono::steady_clock::time_point deadline{};
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  // A stream that was under way and ended by a failure below HTTP (dropped, idle too long):
  // what failed. Empty when it ended normally.
  std::string stream_error;
};

// Receives the body of a 2xx streamed answer as it arrives; returning false stops the stream.
// The body of any other answer goes into HttpResponse::body instead, so a sink only ever sees
// the body of the one attempt that succeeded (an attempt retried after a 401 shares nothing).
using DataSink = std::function<bool(std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws TransportError when no HTTP answer came back.
  virtual HttpResponse send(const HttpRequest& req) = 0;
  // A 2xx body goes to `sink`, not into the response. Ends when the server closes the stream,
  // the sink says stop, `cancel` becomes true (noticed within a second) or the idle timeout
  // passes. An exception thrown by the sink never crosses libcurl: it ends the stream and comes
  // back as a TransportError.
  virtual HttpResponse stream(const HttpRequest& req, const DataSink& sink,
                              const std::atomic<bool>& cancel) = 0;
  // "host:port" of the API server, for metrics labels.
  virtual std::string host() const { return ""; }
};

std::shared_ptr<Transport> make_curl_transport(const ClusterConfig& config,
                                               std::shared_ptr<Credentials> credentials,
                                               std::string user_agent);

}  // namespace rc::kube

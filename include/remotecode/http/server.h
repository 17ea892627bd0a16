// The one HTTP/1.1 server of the binary (Boost.Beast), used by the simulator and the portal.
// A thread per connection: watch and server-sent-event streams are plain blocking loops.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rc::http {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct Request {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // percent-decoded path
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  // Set instead of `body` for requests that ServerOptions::stream_request_body chose to stream:
  // reads up to n next bytes of the body from the connection into buf, 0 at its end; throws
  // std::runtime_error when the connection breaks. Valid only while the handler runs.
  std::function<size_t(char* buf, size_t n)> read_body;
  std::string remote_address;
  bool tls = false;
  // Subject common name and organisations of a verified client certificate, when one was given.
  std::optional<std::string> client_cert_cn;
  std::vector<std::string> client_cert_orgs;

  std::string header(const std::string& name) const;
  std::optional<std::string> param(const std::string& name) const;
};

// Receives the chunks of a streamed response body.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // Sends one chunk at once; false when the client has gone away.
  virtual bool write(std::string_view data) = 0;
  // True when the peer closed its side or the server is stopping: the stream should end.
  virtual bool done() = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is sent with chunked encoding by this function, which returns when the
  // stream ends; `body` is ignored.
  std::function<void(ChunkSink&)> stream;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type = "text/plain");
  void set_header(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // when set, client certificates signed by it are accepted
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::optional<TlsIdentity> tls;
  size_t max_body_bytes = 64u << 20;  // for bodies read into Request::body
  // Asked once the header of a request is read (method, target, path, query and headers are
  // set): true leaves the body on the connection for the handler to read with
  // Request::read_body, with no size limit (the handler enforces its own). A body the handler
  // does not read to its end ends the connection after the response.
  std::function<bool(const Request&)> stream_request_body;
  // Connections served at once (each has a thread); more are closed at accept. 0: no limit.
  int max_connections = 0;
  // Connections served at once for one client address, so that one client cannot take them
  // all; more are closed at accept. 0: no limit. Addresses for which `unlimited_address` is
  // true (proxies in front of the server, which carry everyone's requests) count only in
  // max_connections.
  int max_connections_per_address = 0;
  std::function<bool(const std::string&)> unlimited_address;
  // The whole of a request's header (and the TLS handshake, and the wait for the next request
  // on a kept-alive connection) must arrive within this time, however it trickles in: a client
  // sending a byte now and then cannot hold a connection. 0: no limit.
  int header_timeout_seconds = 0;
  // Likewise for a body read into Request::body (streamed bodies have only the idle timeout).
  int body_timeout_seconds = 0;
  // A connection that sends nothing for this long (between requests, or mid-request) is
  // closed. 0: never. Responses that stream (watches, events) do not read, so they are not cut.
  int idle_timeout_seconds = 0;
  // The form of a request's path that this server may write to its log (a path can carry a
  // credential, such as a share token). Unset: the path as it is.
  std::function<std::string(const std::string&)> loggable_path;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; throws std::runtime_error naming the address when it cannot.
  void start();
  // Stops accepting, closes every connection and waits for their threads.
  void stop();
  int port() const { return port_; }
  std::string host() const { return options_.host; }

 private:
  struct Impl;
  ServerOptions options_;
  Handler handler_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (or ":port", or "[::1]:port"); throws std::invalid_argument on bad input.
std::pair<std::string, int> parse_listen_address(const std::string& address);
std::string percent_decode(std::string_view s);
std::string percent_encode(std::string_view s);

}  // namespace rc::http

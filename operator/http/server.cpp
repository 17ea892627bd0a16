#include "remotecode/http/server.h"

#include "remotecode/util/encoding.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace rc::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (CaseInsensitiveLess{}(k, name) == false && CaseInsensitiveLess{}(name, k) == false) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  return util::url_escape(s);
}

std::pair<std::string, int> parse_listen_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("listen address '" + address + "' is not host:port");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw std::invalid_argument("listen address '" + address + "' has no valid port");
  }
  if (port < 0 || port > 65535)
    throw std::invalid_argument("listen address '" + address + "': port out of range");
  return {host, port};
}

namespace {

void split_target(Request& r) {
  auto q = r.target.find('?');
  r.path = percent_decode(std::string_view(r.target).substr(0, q));
  if (q == std::string::npos) return;
  std::string_view qs = std::string_view(r.target).substr(q + 1);
  while (!qs.empty()) {
    auto amp = qs.find('&');
    std::string_view part = qs.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string key = percent_decode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
      r.query.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    qs.remove_prefix(amp + 1);
  }
}

// True when the peer has hung up, or sent anything while we stream a response (an HTTP/1.1
// client waiting for a response only speaks again to close).
bool peer_gone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  int n = ::poll(&p, 1, 0);
  return n > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

template <class Stream>
class StreamSink : public ChunkSink {
 public:
  StreamSink(Stream& s, int fd, const std::atomic<bool>& stopping)
      : stream_(s), fd_(fd), stopping_(stopping) {}
  bool write(std::string_view data) override {
    if (failed_) return false;
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk(net::buffer(data.data(), data.size())), ec);
    if (ec) failed_ = true;
    return !failed_;
  }
  bool done() override { return failed_ || stopping_ || peer_gone(fd_); }
  bool failed() const { return failed_; }

 private:
  Stream& stream_;
  int fd_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

// When a connection's current read must be over; the server's reaper shuts down connections
// whose time is up, which ends the blocked read.
class ReadClock {
 public:
  void expire_in(int seconds) {
    if (seconds <= 0) return clear();
    at_ = (std::chrono::steady_clock::now() + std::chrono::seconds(seconds))
              .time_since_epoch()
              .count();
  }
  void clear() { at_ = 0; }
  bool expired(std::chrono::steady_clock::time_point now) const {
    auto at = at_.load();
    return at != 0 && now.time_since_epoch().count() > at;
  }

 private:
  std::atomic<std::chrono::steady_clock::rep> at_{0};
};

}  // namespace

struct Server::Impl {
  net::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::set<int> open_fds;
  std::map<int, std::shared_ptr<ReadClock>> clocks;  // of open_fds
  std::map<std::string, int> per_address;            // connections served, by client address
  int active = 0;
  std::thread reaper;

  // Ends the connections whose read is overdue (a shutdown wakes their blocked read).
  void reap(const ServerOptions& options) {
    if (options.header_timeout_seconds <= 0 && options.body_timeout_seconds <= 0) return;
    std::unique_lock lk(mu);
    while (!stopping) {
      cv.wait_for(lk, std::chrono::milliseconds(250), [this] { return stopping.load(); });
      auto now = std::chrono::steady_clock::now();
      for (auto& [fd, clock] : clocks)
        if (clock->expired(now)) {
          spdlog::debug("http: a request did not arrive in time; closing its connection");
          clock->clear();
          ::shutdown(fd, SHUT_RDWR);
        }
    }
  }

  void forget(int fd) {
    open_fds.erase(fd);
    clocks.erase(fd);
  }
};

Server::Server(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)), impl_(std::make_unique<Impl>()) {}

Server::~Server() {
  stop();
}

namespace {

// Not boost::none: Beast 1.74 compares a Content-Length with an empty limit as "above it".
constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// Method, target, path, query and headers of a parsed header.
template <class Fields>
void fill_head(Request& req, const bhttp::request_header<Fields>& head) {
  req.method = std::string(head.method_string());
  req.target = std::string(head.target());
  req.path.clear();
  req.query.clear();
  split_target(req);
  req.headers.clear();
  for (const auto& f : head) req.headers[std::string(f.name_string())] = std::string(f.value());
}

// Ends a connection whose request body was not read: stop sending, then discard what the client
// still sends for a moment so that closing does not reset the connection before the client has
// read the response.
void linger_close(int fd, const std::atomic<bool>& stopping) {
  ::shutdown(fd, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  char scratch[16384];
  while (!stopping) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    if (::recv(fd, scratch, sizeof scratch, 0) <= 0) break;
  }
  ::shutdown(fd, SHUT_RDWR);
}

template <class Stream>
bool send_continue(Stream& stream) {
  beast::error_code ec;
  bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
  bhttp::write(stream, cont, ec);
  return !ec;
}

// A refusal that ends the connection, as a Kubernetes Status (the shape kubectl and the portal's
// pages both read a message from).
template <class Stream>
void write_refusal(Stream& stream, bhttp::status status, const std::string& reason,
                   const std::string& message) {
  beast::error_code ec;
  bhttp::response<bhttp::string_body> res{status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = nlohmann::json{{"kind", "Status"},
                              {"apiVersion", "v1"},
                              {"metadata", nlohmann::json::object()},
                              {"status", "Failure"},
                              {"message", message},
                              {"reason", reason},
                              {"code", static_cast<int>(status)}}
                   .dump();
  res.prepare_payload();
  res.keep_alive(false);
  bhttp::write(stream, res, ec);
}

template <class Stream>
void write_too_large(Stream& stream) {
  write_refusal(stream, bhttp::status::payload_too_large, "RequestEntityTooLarge",
                "the request body is too large");
}

// The body of a streamed request, read from the connection as the handler asks for it.
template <class Stream>
class BodyStream {
 public:
  BodyStream(Stream& stream, beast::flat_buffer& buffer,
             bhttp::request_parser<bhttp::string_body>&& header, bool expect_continue)
      : stream_(stream),
        buffer_(buffer),
        parser_(std::move(header)),
        continue_pending_(expect_continue) {
    parser_.body_limit(kUnlimited);
  }

  size_t read(char* buf, size_t n) {
    if (n == 0 || parser_.is_done()) return 0;
    if (broken_) throw std::runtime_error("the request body was cut off");
    // Sent only now, so a handler that refuses the request spares the client sending the body.
    if (continue_pending_) {
      continue_pending_ = false;
      if (!send_continue(stream_)) fail("cannot send 100 Continue");
    }
    for (;;) {
      auto& body = parser_.get().body();
      body.data = buf;
      body.size = n;
      beast::error_code ec;
      bhttp::read_some(stream_, buffer_, parser_, ec);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) fail("reading the request body: " + ec.message());
      size_t got = n - parser_.get().body().size;
      if (got > 0 || parser_.is_done()) return got;
    }
  }

  bool complete() const { return parser_.is_done(); }
  bool broken() const { return broken_; }

 private:
  [[noreturn]] void fail(const std::string& why) {
    broken_ = true;
    throw std::runtime_error(why);
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body> parser_;
  bool continue_pending_;
  bool broken_ = false;
};

template <class Stream>
void serve(Stream& stream, int fd, const Handler& handler, const ServerOptions& opt,
           const std::atomic<bool>& stopping, ReadClock& clock, Request base) {
  auto log_path = [&opt](const std::string& path) {
    return opt.loggable_path ? opt.loggable_path(path) : path;
  };
  beast::flat_buffer buffer;
  for (;;) {
    beast::error_code ec;
    bhttp::request_parser<bhttp::string_body> parser;
    // The limit depends on whether the body is streamed, which is decided after the header.
    parser.body_limit(kUnlimited);
    parser.header_limit(64 * 1024);
    clock.expire_in(opt.header_timeout_seconds);
    bhttp::read_header(stream, buffer, parser, ec);
    if (ec == bhttp::error::header_limit) {
      write_refusal(stream, bhttp::status::request_header_fields_too_large,
                    "RequestHeaderFieldsTooLarge", "the request header is larger than 64 KiB");
      linger_close(fd, stopping);
      return;
    }
    if (ec) return;
    clock.clear();
    bool expect_continue = beast::iequals(parser.get()[bhttp::field::expect], "100-continue");
    Request req = base;
    fill_head(req, parser.get());
    bool keep_alive = parser.get().keep_alive();

    std::optional<BodyStream<Stream>> streamed;
    if (opt.stream_request_body && opt.stream_request_body(req)) {
      streamed.emplace(stream, buffer, std::move(parser), expect_continue);
      req.read_body = [&streamed](char* buf, size_t n) { return streamed->read(buf, n); };
    } else {
      auto length = parser.content_length();
      if (length && *length > opt.max_body_bytes) {
        write_too_large(stream);
        linger_close(fd, stopping);
        return;
      }
      parser.body_limit(opt.max_body_bytes);
      if (expect_continue && !send_continue(stream)) return;
      clock.expire_in(opt.body_timeout_seconds);
      if (!parser.is_done()) bhttp::read(stream, buffer, parser, ec);
      clock.clear();
      if (ec == bhttp::error::body_limit) {
        write_too_large(stream);
        linger_close(fd, stopping);
        return;
      }
      if (ec) return;
      auto msg = parser.release();
      fill_head(req, msg);  // chunked trailers may have added fields
      req.body = std::move(msg.body());
    }

    Response res;
    try {
      res = handler(req);
    } catch (const std::exception& e) {
      // A client that goes away mid-upload is not a failure of the server.
      if (streamed && streamed->broken())
        spdlog::info("http: {} {}: {}", req.method, log_path(req.path), e.what());
      else
        spdlog::error("http: handler for {} {} failed: {}", req.method, log_path(req.path),
                      e.what());
      res = Response::json(500, R"({"error":"internal","message":"internal server error"})");
    }
    req.read_body = nullptr;
    // Bytes of an unread body must not be parsed as the next request.
    bool unread_body = streamed && !streamed->complete();
    if (unread_body) keep_alive = false;

    if (req.method == "HEAD") {
      // The header a GET would have, and no body: a keep-alive client would read a body as
      // the next response.
      bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(res.status), 11};
      for (auto& [k, v] : res.headers) head.set(k, v);
      if (!res.stream) head.content_length(res.body.size());
      head.keep_alive(keep_alive);
      bhttp::response_serializer<bhttp::empty_body> sr{head};
      sr.split(true);
      bhttp::write_header(stream, sr, ec);
      if (ec) return;
    } else if (res.stream) {
      bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(res.status), 11};
      for (auto& [k, v] : res.headers) head.set(k, v);
      head.chunked(true);
      head.keep_alive(keep_alive);
      bhttp::response_serializer<bhttp::empty_body> sr{head};
      bhttp::write_header(stream, sr, ec);
      if (ec) return;
      StreamSink<Stream> sink(stream, fd, stopping);
      try {
        res.stream(sink);
      } catch (const std::exception& e) {
        spdlog::error("http: stream for {} failed: {}", log_path(req.path), e.what());
        return;
      }
      if (sink.failed()) return;
      net::write(stream, bhttp::make_chunk_last(), ec);
      if (ec) return;
    } else {
      bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), 11};
      for (auto& [k, v] : res.headers) out.set(k, v);
      out.body() = std::move(res.body);
      out.keep_alive(keep_alive);
      out.prepare_payload();
      bhttp::write(stream, out, ec);
      if (ec) return;
    }
    if (unread_body) {
      linger_close(fd, stopping);
      return;
    }
    if (!keep_alive || stopping) return;
  }
}

std::pair<std::optional<std::string>, std::vector<std::string>> peer_identity(SSL* ssl) {
  std::optional<std::string> cn;
  std::vector<std::string> orgs;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {cn, orgs};
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
      int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
      if (len < 0) continue;
      std::string value(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
      OPENSSL_free(utf8);
      if (nid == NID_commonName) cn = value;
      if (nid == NID_organizationName) orgs.push_back(value);
    }
  }
  X509_free(cert);
  return {cn, orgs};
}

}  // namespace

void Server::start() {
  auto& im = *impl_;
  tcp::endpoint ep;
  try {
    ep = tcp::endpoint(net::ip::make_address(options_.host),
                       static_cast<unsigned short>(options_.port));
  } catch (const std::exception&) {
    throw std::runtime_error("cannot listen on '" + options_.host + "': not an IP address");
  }
  im.acceptor = std::make_unique<tcp::acceptor>(im.io);
  beast::error_code ec;
  im.acceptor->open(ep.protocol(), ec);
  if (!ec) im.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor->bind(ep, ec);
  if (!ec) im.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port) + ": " + ec.message());
  port_ = im.acceptor->local_endpoint().port();

  if (options_.tls) {
    im.tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    im.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    im.tls->use_certificate_chain(net::buffer(options_.tls->cert_pem));
    im.tls->use_private_key(net::buffer(options_.tls->key_pem), ssl::context::pem);
    if (!options_.tls->client_ca_pem.empty()) {
      im.tls->add_certificate_authority(net::buffer(options_.tls->client_ca_pem));
      // Ask for a certificate but accept connections without one (bearer tokens still work).
      im.tls->set_verify_mode(ssl::verify_peer);
      im.tls->set_verify_callback([](bool, ssl::verify_context&) { return true; });
    }
  }

  im.reaper = std::thread([this] { impl_->reap(options_); });
  im.accept_thread = std::thread([this] {
    auto& im = *impl_;
    while (!im.stopping) {
      tcp::socket sock(im.io);
      beast::error_code aec;
      im.acceptor->accept(sock, aec);
      if (aec) {
        if (im.stopping) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      sock.set_option(tcp::no_delay(true), aec);
      int fd = sock.native_handle();
      if (options_.idle_timeout_seconds > 0) {
        timeval tv{options_.idle_timeout_seconds, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      }
      std::string remote;
      try {
        remote = sock.remote_endpoint().address().to_string();
      } catch (const std::exception&) {
      }
      auto clock = std::make_shared<ReadClock>();
      clock->expire_in(options_.header_timeout_seconds);  // the TLS handshake and first header
      {
        std::lock_guard lk(im.mu);
        if (im.stopping) break;
        if (options_.max_connections > 0 && im.active >= options_.max_connections) {
          spdlog::warn("http: {} connections open; refusing another", im.active);
          sock.close(aec);
          continue;
        }
        if (options_.max_connections_per_address > 0 &&
            im.per_address[remote] >= options_.max_connections_per_address &&
            !(options_.unlimited_address && options_.unlimited_address(remote))) {
          spdlog::warn("http: {} connections open from {}; refusing another",
                       im.per_address[remote], remote);
          sock.close(aec);
          continue;
        }
        im.open_fds.insert(fd);
        im.clocks[fd] = clock;
        ++im.per_address[remote];
        ++im.active;
      }
      try {
        std::thread([this, s = std::move(sock), fd, remote, clock]() mutable {
          auto& im = *impl_;
          Request base;
          base.remote_address = remote;
          try {
            if (im.tls) {
              ssl::stream<tcp::socket> stream(std::move(s), *im.tls);
              beast::error_code hec;
              stream.handshake(ssl::stream_base::server, hec);
              if (!hec) {
                base.tls = true;
                auto [cn, orgs] = peer_identity(stream.native_handle());
                base.client_cert_cn = cn;
                base.client_cert_orgs = orgs;
                serve(stream, fd, handler_, options_, im.stopping, *clock, std::move(base));
                stream.shutdown(hec);
              }
              {
                std::lock_guard lk(im.mu);
                im.forget(fd);
              }
              stream.next_layer().close(hec);
            } else {
              serve(s, fd, handler_, options_, im.stopping, *clock, std::move(base));
              beast::error_code cec;
              {
                std::lock_guard lk(im.mu);
                im.forget(fd);
              }
              s.shutdown(tcp::socket::shutdown_both, cec);
              s.close(cec);
            }
          } catch (const std::exception& e) {
            spdlog::debug("http: connection ended: {}", e.what());
            std::lock_guard lk(im.mu);
            im.forget(fd);
          }
          std::lock_guard lk(im.mu);
          --im.active;
          if (--im.per_address[remote] <= 0) im.per_address.erase(remote);
          im.cv.notify_all();
        }).detach();
      } catch (const std::system_error& e) {
        // No thread to serve it (a thread limit): drop this connection, keep serving others.
        spdlog::error("http: cannot start a connection thread: {}", e.what());
        std::lock_guard lk(im.mu);
        im.forget(fd);
        --im.active;
        if (--im.per_address[remote] <= 0) im.per_address.erase(remote);
        im.cv.notify_all();
      }
    }
  });
}

void Server::stop() {
  if (!impl_ || !impl_->acceptor) return;
  auto& im = *impl_;
  if (im.stopping.exchange(true)) return;
  beast::error_code ec;
  ::shutdown(im.acceptor->native_handle(), SHUT_RDWR);
  im.acceptor->close(ec);
  if (im.accept_thread.joinable()) im.accept_thread.join();
  im.cv.notify_all();
  if (im.reaper.joinable()) im.reaper.join();
  std::unique_lock lk(im.mu);
  for (int fd : im.open_fds) ::shutdown(fd, SHUT_RDWR);
  im.cv.wait_for(lk, std::chrono::seconds(10), [&] { return im.active == 0; });
}

}  // namespace rc::http

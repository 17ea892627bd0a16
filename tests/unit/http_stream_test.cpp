// Streamed request bodies in the HTTP server: a handler reads a body of several MiB as it
// arrives (never held in memory), next to ordinary requests on the same server; a client that
// drops mid-body, a handler that refuses without reading, and Expect: 100-continue.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "remotecode/http/server.h"

namespace rc::http {
namespace {

using namespace std::chrono_literals;

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void add(const char* data, size_t n) { EVP_DigestUpdate(ctx_, data, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(digits[md[i] >> 4]);
      out.push_back(digits[md[i] & 15]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Deterministic bytes that differ from chunk to chunk, so a lost or repeated chunk shows.
std::string chunk_bytes(size_t index, size_t size) {
  std::string out(size, '\0');
  uint32_t x = static_cast<uint32_t>(index * 2654435761u + 1);
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

// What the streaming handler saw of one upload.
struct Upload {
  size_t bytes = 0;
  std::string sha256;
  size_t largest_read = 0;
  bool body_member_empty = true;
  std::string error;  // what read_body threw
  bool finished = false;
};

class StreamServer : public ::testing::Test {
 protected:
  static constexpr size_t kReadBuffer = 64 * 1024;

  void SetUp() override {
    ServerOptions opt;
    opt.max_body_bytes = 1024 * 1024;
    opt.stream_request_body = [](const Request& r) {
      return r.method == "POST" && r.path.rfind("/upload/", 0) == 0;
    };
    opt.loggable_path = [](const std::string& path) {
      return path.rfind("/fail/", 0) == 0 ? std::string("/fail/<secret>") : path;
    };
    server_ = std::make_unique<Server>(opt, [this](Request& r) { return handle(r); });
    server_->start();
  }
  void TearDown() override { server_->stop(); }

  Response handle(Request& r) {
    {
      std::lock_guard lk(mu_);
      seen_.push_back(r.method + " " + r.path);
    }
    if (r.path == "/upload/refuse") return Response::json(413, R"({"error":"too_large"})");
    if (r.path.rfind("/fail/", 0) == 0) throw std::runtime_error("handler broke");
    if (r.path.rfind("/upload/", 0) == 0) return upload(r);
    std::string info =
        "body=" + std::to_string(r.body.size()) + " read_body=" + (r.read_body ? "set" : "empty");
    return Response::text(200, info);
  }

  Response upload(Request& r) {
    Upload u;
    u.body_member_empty = r.body.empty() && static_cast<bool>(r.read_body);
    Sha256 sha;
    std::vector<char> buf(kReadBuffer);
    try {
      for (;;) {
        size_t n = r.read_body(buf.data(), buf.size());
        if (n == 0) break;
        sha.add(buf.data(), n);
        u.bytes += n;
        u.largest_read = std::max(u.largest_read, n);
        received_.store(u.bytes);
      }
      u.sha256 = sha.hex();
    } catch (const std::runtime_error& e) {
      u.error = e.what();
    }
    u.finished = true;
    {
      std::lock_guard lk(mu_);
      uploads_.push_back(u);
    }
    cv_.notify_all();
    if (!u.error.empty()) throw std::runtime_error(u.error);
    return Response::text(201, std::to_string(u.bytes) + " " + u.sha256);
  }

  Upload wait_upload() {
    std::unique_lock lk(mu_);
    EXPECT_TRUE(cv_.wait_for(lk, 20s, [&] { return !uploads_.empty(); }));
    if (uploads_.empty()) return {};
    Upload u = uploads_.front();
    uploads_.erase(uploads_.begin());
    return u;
  }

  bool wait_received(size_t bytes) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (received_.load() < bytes) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  std::vector<std::string> seen() {
    std::lock_guard lk(mu_);
    return seen_;
  }

  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Upload> uploads_;
  std::vector<std::string> seen_;
  std::atomic<size_t> received_{0};
};

// A plain client connection with a receive timeout, so a server bug fails instead of hanging.
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Conn() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Reply {
    int status = 0;
    std::string head;
    std::string body;
  };
  // Reads one response with a Content-Length body (or none); status 0 when the connection ended
  // first.
  Reply read_reply() {
    Reply r;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return r;
    r.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    auto cl = lower(r.head).find("content-length:");
    if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 15));
    while (pending_.size() < length)
      if (!fill()) return Reply{};
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }
  // True when the server closed the connection (after any bytes already buffered).
  bool closed_by_server() {
    char c;
    return pending_.empty() && ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

constexpr size_t kChunk = 256 * 1024;
constexpr size_t kChunks = 24;  // 6 MiB, more than max_body_bytes

TEST_F(StreamServer, HandlerReadsALargeBodyAsItArrives) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("POST /upload/big HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(kChunk * kChunks) + "\r\n\r\n"));
  Sha256 sent;
  for (size_t i = 0; i < kChunks; ++i) {
    std::string data = chunk_bytes(i, kChunk);
    sent.add(data.data(), data.size());
    ASSERT_TRUE(c.send(data));
    // The handler has the first half before the second half is sent: the server hands the body
    // over as it arrives instead of collecting it first.
    if (i == kChunks / 2 - 1) {
      ASSERT_TRUE(wait_received(kChunk * kChunks / 2));
    }
  }
  std::string expected_sha = sent.hex();
  auto reply = c.read_reply();
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.body, std::to_string(kChunk * kChunks) + " " + expected_sha);

  Upload u = wait_upload();
  EXPECT_EQ(u.bytes, kChunk * kChunks);
  EXPECT_EQ(u.sha256, expected_sha);
  EXPECT_TRUE(u.body_member_empty);
  EXPECT_LE(u.largest_read, kReadBuffer);

  // The connection stays usable for an ordinary request with a body read into memory.
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  reply = c.read_reply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "body=5 read_body=empty");
}

TEST_F(StreamServer, ChunkedBodyIsStreamedToo) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send("POST /upload/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  Sha256 sent;
  size_t total = 0;
  for (size_t i = 0; i < 12; ++i) {
    std::string data = chunk_bytes(i, 100 * 1000 + i);  // odd sizes across read buffers
    sent.add(data.data(), data.size());
    total += data.size();
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    ASSERT_TRUE(c.send(std::string(size_line) + data + "\r\n"));
  }
  ASSERT_TRUE(c.send("0\r\n\r\n"));
  auto reply = c.read_reply();
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.body, std::to_string(total) + " " + sent.hex());
}

TEST_F(StreamServer, OrdinaryRequestsKeepTheirLimit) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  auto reply = c.read_reply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "body=3 read_body=empty");

  // Not streamed (a GET), so above max_body_bytes it is refused before the handler runs.
  Conn big(server_->port());
  ASSERT_TRUE(big.send("GET /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"));
  reply = big.read_reply();
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(has(reply.body, "RequestEntityTooLarge"));

  Conn chunked(server_->port());
  ASSERT_TRUE(chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // Three chunks of 512 KiB: the third passes the 1 MiB limit.
  std::string data(512 * 1024, 'z');
  for (int i = 0; i < 3; ++i) chunked.send("80000\r\n" + data + "\r\n");
  reply = chunked.read_reply();
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(seen(), std::vector<std::string>{"PUT /echo"});
}

TEST_F(StreamServer, ClientDroppingMidBodyMakesReadBodyThrow) {
  {
    Conn c(server_->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(
        c.send("POST /upload/dropped HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
    ASSERT_TRUE(c.send(chunk_bytes(0, kChunk)));
    ASSERT_TRUE(wait_received(kChunk));
  }
  Upload u = wait_upload();
  EXPECT_TRUE(u.finished);
  EXPECT_EQ(u.bytes, kChunk);
  EXPECT_FALSE(u.error.empty());

  // The server goes on serving.
  Conn next(server_->port());
  ASSERT_TRUE(next.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(next.read_reply().status, 200);
}

TEST_F(StreamServer, UnreadBodyEndsTheConnection) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  // The body looks like a request: it must not be served as one.
  std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.send("POST /upload/refuse HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled));
  auto reply = c.read_reply();
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(has(reply.head, "Connection: close"));
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(seen(), std::vector<std::string>{"POST /upload/refuse"});
}

TEST_F(StreamServer, ExpectContinueIsAnsweredWhenTheHandlerReads) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send("POST /upload/small HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
             "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_reply().status, 100);
  ASSERT_TRUE(c.send("data"));
  auto reply = c.read_reply();
  EXPECT_EQ(reply.status, 201);
  EXPECT_TRUE(has(reply.body, "4 "));

  // A handler that refuses without reading answers at once: no 100 Continue first.
  Conn refused(server_->port());
  ASSERT_TRUE(
      refused.send("POST /upload/refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                   "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(refused.read_reply().status, 413);
}

TEST_F(StreamServer, AFailingHandlerIsA500AndItsPathIsLoggedAsLoggablePathSays) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  spdlog::set_default_logger(capture);
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /fail/s3cret-token HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reply = c.read_reply();
  spdlog::set_default_logger(previous);
  EXPECT_EQ(reply.status, 500);
  EXPECT_TRUE(has(reply.body, "internal server error")) << reply.body;
  EXPECT_FALSE(has(reply.body, "handler broke")) << "the cause stays in the log";
  EXPECT_TRUE(has(log.str(), "GET /fail/<secret>")) << log.str();
  EXPECT_TRUE(has(log.str(), "handler broke")) << log.str();
  EXPECT_FALSE(has(log.str(), "s3cret-token")) << log.str();
}

}  // namespace
}  // namespace rc::http

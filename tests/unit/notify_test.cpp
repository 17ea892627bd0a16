// Notifications: the webhook body and the email text as pure functions, then real sends through
// libcurl to an in-process HTTP server and to a small fake SMTP server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "remotecode/controllers/notify.h"
#include "remotecode/http/server.h"

namespace rc::controllers {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

Notification sample() {
  Notification n;
  n.namespace_name = "ml";
  n.name = "resnet";
  n.phase = "Succeeded";
  n.message = "all 2 runs succeeded";
  n.runs = json::array({
      {{"index", 0},
       {"phase", "Succeeded"},
       {"parameters", {{"lr", "0.1"}}},
       {"metrics", {{"loss", 0.25}}}},
      {{"index", 1},
       {"phase", "Succeeded"},
       {"parameters", {{"lr", "0.01"}}},
       {"metrics", {{"loss", 0.5}}}},
  });
  n.email_to = {"alice@example.com", "bob@example.org"};
  return n;
}

// A socket bound to 127.0.0.1 on a free port; listening when `backlog` >= 0.
struct LocalSocket {
  int fd = -1;
  int port = 0;
  explicit LocalSocket(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    if (backlog >= 0) ::listen(fd, backlog);
  }
  ~LocalSocket() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// ---------------------------------------------------------------------------------------------
// Pure functions

TEST(Notify, WebhookBody) {
  Notification n = sample();
  json body = webhook_body(n, "https://portal.example.com/");
  EXPECT_EQ(body, (json{{"kind", "TrainingJobFinished"},
                        {"namespace", "ml"},
                        {"name", "resnet"},
                        {"phase", "Succeeded"},
                        {"message", "all 2 runs succeeded"},
                        {"runs", n.runs},
                        {"url", "https://portal.example.com/jobs/ml/resnet"}}));
  json no_portal = webhook_body(n, "");
  EXPECT_FALSE(no_portal.contains("url"));
  EXPECT_EQ(no_portal["runs"].size(), 2u);
  n.runs = nullptr;
  EXPECT_EQ(webhook_body(n, "")["runs"], json::array());
}

TEST(Notify, EmailMessage) {
  Notification n = sample();
  // 2026-03-04T05:06:07Z, a Wednesday.
  auto when = std::chrono::system_clock::from_time_t(1772600767);
  std::string m = email_message(n, "Remote Code <rc@example.com>", "https://portal.example.com",
                                when, "<abc.123@example.com>");
  size_t split = m.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos);
  std::string headers = m.substr(0, split + 2), body = m.substr(split + 4);
  EXPECT_EQ(headers,
            "Date: Wed, 04 Mar 2026 05:06:07 +0000\r\n"
            "From: \"Remote Code\" <rc@example.com>\r\n"
            "To: alice@example.com,\r\n bob@example.org\r\n"
            "Subject: TrainingJob ml/resnet Succeeded\r\n"
            "Message-ID: <abc.123@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "Auto-Submitted: auto-generated\r\n");
  EXPECT_TRUE(contains(body, "TrainingJob ml/resnet ended: Succeeded.\r\nall 2 runs succeeded\r\n"))
      << body;
  EXPECT_TRUE(contains(body, "  run 0: Succeeded (lr=0.1) loss=0.25\r\n")) << body;
  EXPECT_TRUE(contains(body, "  run 1: Succeeded (lr=0.01) loss=0.5\r\n")) << body;
  EXPECT_TRUE(contains(body, "Details: https://portal.example.com/jobs/ml/resnet\r\n")) << body;
  // Every line ends in CRLF and no bare CR or LF is left.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      EXPECT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
    if (m[i] == '\r') {
      EXPECT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    }
  }

  // The three-argument form makes its own Date and Message-ID.
  std::string live = email_message(n, "rc@example.com", "");
  EXPECT_TRUE(contains(live, "\r\nFrom: rc@example.com\r\n")) << live;
  EXPECT_TRUE(live.rfind("Date: ", 0) == 0) << live;
  EXPECT_TRUE(contains(live, "@example.com>\r\n")) << live;
  EXPECT_FALSE(contains(live, "Details:"));
}

TEST(Notify, EmailMessageKeepsUserTextOutOfTheHeaders) {
  Notification n = sample();
  n.email_to = {"alice@example.com\r\nBcc: evil@example.com", "bob@example.org"};
  n.message = "line one\r\nSubject: forged\n.\r\nline three";
  n.runs = json::array({{{"index", 0},
                         {"phase", "Failed"},
                         {"parameters", {{"x", "a\r\nBcc: evil2@example.com"}}}}});
  std::string m =
      email_message(n, "rc@example.com", "", std::chrono::system_clock::now(), "<id@example.com>");
  std::string headers = m.substr(0, m.find("\r\n\r\n") + 2);
  EXPECT_TRUE(contains(headers, "To: bob@example.org\r\n")) << headers;
  EXPECT_FALSE(contains(m, "evil@example.com")) << m;
  EXPECT_FALSE(contains(m, "\r\nBcc:")) << m;
  EXPECT_FALSE(contains(m, "\r\nSubject: forged")) << m;
  EXPECT_FALSE(contains(m, "\r\n.\r\n")) << m;  // cannot end the DATA section early

  n.email_to = {"x\r\n@y"};
  m = email_message(n, "rc@example.com", "", std::chrono::system_clock::now(), "<id@x>");
  EXPECT_TRUE(contains(m, "To: undisclosed-recipients:;\r\n")) << m;
}

TEST(Notify, LongLinesAreWrapped) {
  Notification n = sample();
  n.message = std::string(3000, 'x');
  std::string m =
      email_message(n, "rc@example.com", "", std::chrono::system_clock::now(), "<id@example.com>");
  size_t start = 0;
  for (size_t end = m.find("\r\n"); end != std::string::npos; end = m.find("\r\n", start)) {
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
}

TEST(Notify, EmailAddresses) {
  for (const char* ok :
       {"a@b", "alice@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@example-host.org"})
    EXPECT_TRUE(valid_email_address(ok)) << ok;
  for (const char* bad : {"",
                          "@",
                          "a@",
                          "@b",
                          "a@b@c",
                          "no-at-sign",
                          "a b@example.com",
                          "a@example.com\r\n",
                          "a@example.com\nBcc: x@y",
                          "a\r\n@example.com",
                          "<a@example.com>",
                          "a@exa mple.com",
                          "a,b@example.com",
                          "a@example..com",
                          "a@.example.com",
                          "a@example.com.",
                          "\"a\"@b.com",
                          "a@b;c",
                          "a@[127.0.0.1]",
                          "ä@example.com",
                          "a\t@example.com"})
    EXPECT_FALSE(valid_email_address(bad)) << json(bad).dump();
  EXPECT_FALSE(valid_email_address(std::string(250, 'a') + "@example.com"));

  EXPECT_EQ(sender_address("rc@example.com"), "rc@example.com");
  EXPECT_EQ(sender_address("Remote Code <rc@example.com>"), "rc@example.com");
  EXPECT_EQ(sender_address("<rc@example.com>"), "rc@example.com");
  EXPECT_FALSE(sender_address(""));
  EXPECT_FALSE(sender_address("Remote\r\nBcc: x@y <rc@example.com>"));
  EXPECT_FALSE(sender_address("\"Quoted\" <rc@example.com>"));
  EXPECT_FALSE(sender_address("Name <rc@example.com"));
  EXPECT_FALSE(sender_address("Name <bad address@example.com>"));
}

TEST(Notify, RedactUrl) {
  EXPECT_EQ(redact_url("https://user:secret@hooks.example.com:8443/path/x?token=abc#frag"),
            "https://hooks.example.com:8443/path/x");
  EXPECT_EQ(redact_url("http://example.com"), "http://example.com");
  EXPECT_EQ(redact_url("smtp://mailer:pw@mail.example.com:587"), "smtp://mail.example.com:587");
  EXPECT_EQ(redact_url("not a url"), "<invalid URL>");
}

// ---------------------------------------------------------------------------------------------
// Webhooks

struct HookServer {
  std::mutex mu;
  std::vector<http::Request> requests;
  std::atomic<int> status{200};
  http::Server server{http::ServerOptions{}, [this](http::Request& r) {
                        {
                          std::lock_guard lk(mu);
                          requests.push_back(r);
                        }
                        // No body with 204 (HTTP forbids one).
                        return http::Response::json(status, status == 204 ? "" : "{}");
                      }};
  HookServer() { server.start(); }
  ~HookServer() { server.stop(); }
  std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
};

TEST(Notify, WebhookIsPosted) {
  HookServer hook;
  OperatorConfig cfg;
  cfg.notify_webhook_url = hook.url("/hooks/training?token=s3cr3t");
  cfg.portal_url = "https://portal.example.com";
  Notification n = sample();
  std::vector<std::string> errors = make_notifier(cfg)->send(n);
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::lock_guard lk(hook.mu);
  ASSERT_EQ(hook.requests.size(), 1u);
  const http::Request& r = hook.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hooks/training");
  EXPECT_EQ(r.param("token"), "s3cr3t");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(r.body), webhook_body(n, cfg.portal_url));
}

TEST(Notify, WebhookErrorStatusIsReported) {
  HookServer hook;
  hook.status = 500;
  OperatorConfig cfg;
  cfg.notify_webhook_url = hook.url("/hook?token=s3cr3t");
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "500")) << errors[0];
  EXPECT_TRUE(contains(errors[0], "/hook")) << errors[0];
  EXPECT_FALSE(contains(errors[0], "s3cr3t")) << errors[0];

  hook.status = 404;
  errors = make_notifier(cfg)->send(sample());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "404")) << errors[0];

  hook.status = 204;
  EXPECT_TRUE(make_notifier(cfg)->send(sample()).empty());
}

TEST(Notify, UnreachableWebhookIsReported) {
  int port;
  {
    LocalSocket closed(-1);  // bound, then released: nobody listens there
    port = closed.port;
  }
  OperatorConfig cfg;
  cfg.notify_webhook_url = "http://hook-user:hook-pass@127.0.0.1:" + std::to_string(port) + "/x";
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "webhook http://127.0.0.1:" + std::to_string(port) + "/x"))
      << errors[0];
  EXPECT_FALSE(contains(errors[0], "hook-pass")) << errors[0];
  EXPECT_FALSE(contains(errors[0], "hook-user")) << errors[0];
}

TEST(Notify, WebhookOnlyOverHttp) {
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x"}) {
    OperatorConfig cfg;
    cfg.notify_webhook_url = url;
    std::vector<std::string> errors = make_notifier(cfg)->send(sample());
    ASSERT_EQ(errors.size(), 1u) << url;
    EXPECT_TRUE(contains(errors[0], "webhook")) << errors[0];
  }
}

TEST(Notify, SilentWebhookTimesOut) {
  // Connections are accepted by the kernel but nobody ever answers.
  LocalSocket silent(16);
  OperatorConfig cfg;
  cfg.notify_webhook_url = "http://127.0.0.1:" + std::to_string(silent.port) + "/x";
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 9s);
  EXPECT_LT(took, 15s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "imeout") || contains(errors[0], "timed out")) << errors[0];
}

TEST(Notify, NothingConfiguredSendsNothing) {
  EXPECT_TRUE(make_notifier(OperatorConfig{})->send(sample()).empty());
  OperatorConfig cfg;
  cfg.smtp_url = "smtp://127.0.0.1:1";  // no recipients: email is not attempted
  Notification n = sample();
  n.email_to.clear();
  EXPECT_TRUE(make_notifier(cfg)->send(n).empty());
}

// ---------------------------------------------------------------------------------------------
// Email

// Just enough of an SMTP server for libcurl: one session, no TLS, AUTH PLAIN when asked to.
class FakeSmtp {
 public:
  explicit FakeSmtp(bool want_auth = false, bool deny_auth = false)
      : want_auth_(want_auth), deny_auth_(deny_auth), socket_(4) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSmtp() {
    stopping_ = true;
    ::shutdown(socket_.fd, SHUT_RDWR);
    thread_.join();
  }
  int port() const { return socket_.port; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }

  std::mutex mu;
  std::vector<std::string> commands;  // every command line received, without CRLF
  std::string data;                   // the message, dot-unstuffed, without the final "."
  std::string auth;                   // the decoded AUTH PLAIN response
  bool quit = false;

 private:
  void serve() {
    timeval tv{15, 0};
    int conn = -1;
    while (!stopping_) {
      conn = ::accept(socket_.fd, nullptr, nullptr);
      if (conn >= 0 || errno != EINTR) break;
    }
    if (conn < 0) return;
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fd_ = conn;
    say("220 fake.example.com ESMTP ready");
    std::string line;
    while (read_line(line)) {
      {
        std::lock_guard lk(mu);
        commands.push_back(line);
      }
      std::string verb = line.substr(0, line.find(' '));
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (verb == "EHLO") {
        say(want_auth_ ? "250-fake.example.com\r\n250 AUTH PLAIN" : "250 fake.example.com");
      } else if (verb == "AUTH") {
        std::string b64 = line.size() > 11 ? line.substr(11) : "";
        if (b64.empty()) {
          say("334 ");
          if (!read_line(b64)) break;
        }
        {
          std::lock_guard lk(mu);
          auth = decode64(b64);
        }
        say(deny_auth_ ? "535 5.7.8 Authentication credentials invalid"
                       : "235 2.7.0 Authentication successful");
      } else if (verb == "MAIL") {
        say("250 2.1.0 Ok");
      } else if (verb == "RCPT") {
        say(line.find("refuse") != std::string::npos ? "550 5.1.1 No such user" : "250 2.1.5 Ok");
      } else if (verb == "DATA") {
        say("354 End data with <CR><LF>.<CR><LF>");
        std::string body, l;
        while (read_line(l) && l != ".") body += (l.rfind("..", 0) == 0 ? l.substr(1) : l) + "\r\n";
        {
          std::lock_guard lk(mu);
          data = body;
        }
        say("250 2.0.0 Ok: queued");
      } else if (verb == "QUIT") {
        {
          std::lock_guard lk(mu);
          quit = true;
        }
        say("221 2.0.0 Bye");
        break;
      } else {
        say("502 5.5.2 Unknown command");
      }
    }
    ::close(conn);
  }

  void say(const std::string& reply) {
    std::string out = reply + "\r\n";
    ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
  }

  bool read_line(std::string& line) {
    for (;;) {
      size_t nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return true;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  static std::string decode64(const std::string& in) {
    static const std::string chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -8;
    for (char c : in) {
      size_t p = chars.find(c);
      if (p == std::string::npos) break;
      val = (val << 6) + static_cast<int>(p);
      bits += 6;
      if (bits >= 0) {
        out.push_back(static_cast<char>((val >> bits) & 0xFF));
        bits -= 8;
      }
    }
    return out;
  }

  bool want_auth_, deny_auth_;
  LocalSocket socket_;
  std::atomic<bool> stopping_{false};
  int fd_ = -1;
  std::string buf_;
  std::thread thread_;
};

std::vector<std::string> with_prefix(const std::vector<std::string>& lines, const char* prefix) {
  std::vector<std::string> out;
  for (const std::string& l : lines)
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  return out;
}

TEST(Notify, EmailIsSent) {
  FakeSmtp smtp;
  OperatorConfig cfg;
  cfg.smtp_url = smtp.url();
  cfg.smtp_from = "Remote Code <rc@example.com>";
  cfg.portal_url = "https://portal.example.com";
  Notification n = sample();
  n.message = ".a line that starts with a dot";
  std::vector<std::string> errors = make_notifier(cfg)->send(n);
  EXPECT_TRUE(errors.empty()) << errors.front();

  std::lock_guard lk(smtp.mu);
  EXPECT_EQ(with_prefix(smtp.commands, "MAIL FROM:"),
            std::vector<std::string>{"MAIL FROM:<rc@example.com>"});
  EXPECT_EQ(with_prefix(smtp.commands, "RCPT TO:"),
            (std::vector<std::string>{"RCPT TO:<alice@example.com>", "RCPT TO:<bob@example.org>"}));
  EXPECT_TRUE(smtp.quit);
  const std::string& d = smtp.data;
  EXPECT_EQ(d.rfind("Date: ", 0), 0u) << d;
  EXPECT_TRUE(contains(d, "\r\nFrom: \"Remote Code\" <rc@example.com>\r\n")) << d;
  EXPECT_TRUE(contains(d, "\r\nTo: alice@example.com,\r\n bob@example.org\r\n")) << d;
  EXPECT_TRUE(contains(d, "\r\nSubject: TrainingJob ml/resnet Succeeded\r\n")) << d;
  EXPECT_TRUE(contains(d, "\r\nMessage-ID: <")) << d;
  EXPECT_TRUE(contains(d, "@example.com>\r\n")) << d;
  EXPECT_TRUE(contains(d, "\r\n.a line that starts with a dot\r\n"))
      << d;  // dot-stuffed in transit
  EXPECT_TRUE(contains(d, "Details: https://portal.example.com/jobs/ml/resnet")) << d;
  EXPECT_TRUE(smtp.auth.empty());  // no credentials configured
}

TEST(Notify, EmailWithCredentials) {
  FakeSmtp smtp(/*want_auth=*/true);
  OperatorConfig cfg;
  cfg.smtp_url = smtp.url();
  cfg.smtp_from = "rc@example.com";
  cfg.smtp_user = "mailer";
  cfg.smtp_password = "hunter2-pw";
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::lock_guard lk(smtp.mu);
  EXPECT_EQ(smtp.auth, std::string("\0mailer\0hunter2-pw", 18));
  EXPECT_EQ(with_prefix(smtp.commands, "RCPT TO:").size(), 2u);
}

TEST(Notify, EmailLoginFailureDoesNotLeakThePassword) {
  FakeSmtp smtp(/*want_auth=*/true, /*deny_auth=*/true);
  OperatorConfig cfg;
  cfg.smtp_url = smtp.url();
  cfg.smtp_from = "rc@example.com";
  cfg.smtp_user = "mailer";
  cfg.smtp_password = "hunter2-pw";
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "email")) << errors[0];
  EXPECT_FALSE(contains(errors[0], "hunter2")) << errors[0];
  std::lock_guard lk(smtp.mu);
  EXPECT_TRUE(with_prefix(smtp.commands, "RCPT").empty());
}

TEST(Notify, InjectedRecipientIsRefused) {
  FakeSmtp smtp;
  OperatorConfig cfg;
  cfg.smtp_url = smtp.url();
  cfg.smtp_from = "rc@example.com";
  Notification n = sample();
  n.email_to = {"alice@example.com\r\nBcc: evil@example.com", "bob@example.org"};
  std::vector<std::string> errors = make_notifier(cfg)->send(n);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "invalid recipient")) << errors[0];
  EXPECT_TRUE(contains(errors[0], "\\r\\nBcc")) << errors[0];  // shown escaped
  EXPECT_FALSE(contains(errors[0], "\r")) << errors[0];
  EXPECT_FALSE(contains(errors[0], "\n")) << errors[0];
  EXPECT_TRUE(contains(errors[0], "sent to the other 1")) << errors[0];

  std::lock_guard lk(smtp.mu);
  EXPECT_EQ(with_prefix(smtp.commands, "RCPT TO:"),
            std::vector<std::string>{"RCPT TO:<bob@example.org>"});
  for (const std::string& c : smtp.commands) EXPECT_FALSE(contains(c, "evil")) << c;
  EXPECT_FALSE(contains(smtp.data, "evil")) << smtp.data;
  EXPECT_FALSE(contains(smtp.data, "Bcc:")) << smtp.data;
}

TEST(Notify, OnlyInvalidRecipientsSendsNothing) {
  int port;
  {
    LocalSocket closed(-1);
    port = closed.port;
  }
  OperatorConfig cfg;
  cfg.smtp_url = "smtp://127.0.0.1:" + std::to_string(port);
  cfg.smtp_from = "rc@example.com";
  Notification n = sample();
  n.email_to = {"not an address", "x@y\nBcc: z@w"};
  std::vector<std::string> errors = make_notifier(cfg)->send(n);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "invalid recipient addresses")) << errors[0];
  EXPECT_TRUE(contains(errors[0], "nobody left to send to")) << errors[0];
  EXPECT_FALSE(contains(errors[0], "sending via")) << errors[0];  // no connection was tried
}

TEST(Notify, RefusedRecipientDoesNotStopTheOthers) {
  FakeSmtp smtp;
  OperatorConfig cfg;
  cfg.smtp_url = smtp.url();
  cfg.smtp_from = "rc@example.com";
  Notification n = sample();
  n.email_to = {"refuse-me@example.com", "bob@example.org"};
  std::vector<std::string> errors = make_notifier(cfg)->send(n);
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::lock_guard lk(smtp.mu);
  EXPECT_EQ(with_prefix(smtp.commands, "RCPT TO:").size(), 2u);
  EXPECT_FALSE(smtp.data.empty());
}

TEST(Notify, BadSenderIsReported) {
  OperatorConfig cfg;
  cfg.smtp_url = "smtp://127.0.0.1:1";
  cfg.smtp_from = "";
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(contains(errors[0], "--smtp-from")) << errors[0];
}

TEST(Notify, UnreachableSmtpServerIsReportedWithoutSecrets) {
  int port;
  {
    LocalSocket closed(-1);
    port = closed.port;
  }
  OperatorConfig cfg;
  cfg.smtp_url = "smtp://u:url-pw@127.0.0.1:" + std::to_string(port);
  cfg.smtp_from = "rc@example.com";
  cfg.smtp_password = "hunter2-pw";
  cfg.notify_webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  std::vector<std::string> errors = make_notifier(cfg)->send(sample());
  ASSERT_EQ(errors.size(), 2u);  // one per channel
  EXPECT_TRUE(contains(errors[0], "webhook")) << errors[0];
  EXPECT_TRUE(contains(errors[1], "email")) << errors[1];
  EXPECT_TRUE(contains(errors[1], "smtp://127.0.0.1:" + std::to_string(port))) << errors[1];
  for (const std::string& e : errors) {
    EXPECT_FALSE(contains(e, "url-pw")) << e;
    EXPECT_FALSE(contains(e, "hunter2")) << e;
  }
}

}  // namespace
}  // namespace rc::controllers

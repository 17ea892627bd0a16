#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "remotecode/kube/api_error.h"
#include "remotecode/kube/transport.h"

namespace rc::kube {
namespace {

std::once_flag curl_init;

struct Call {
  CURL* handle = nullptr;
  std::string* body = nullptr;
  const DataSink* sink = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  bool sink_stopped = false;
  std::map<std::string, std::string>* headers = nullptr;
  // Set when a callback caught an exception: C frames of libcurl sit between the callback and
  // our caller, so nothing may unwind through them; it is rethrown as a TransportError after.
  bool callback_failed = false;
  std::string callback_error;
};

void record_failure(Call* call, const char* what) noexcept {
  call->callback_failed = true;
  try {
    call->callback_error = what;
  } catch (...) {
    // Out of memory: the flag alone still ends the stream as a failure.
  }
}

bool successful_answer(CURL* h) {
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  return status >= 200 && status < 300;
}

size_t on_body(char* ptr, size_t size, size_t n, void* user) noexcept {
  auto* call = static_cast<Call*>(user);
  size_t len = size * n;
  try {
    // A refused stream's Status (a 401 retried, a 403) is kept for the error, never streamed.
    if (call->sink && successful_answer(call->handle)) {
      if (!(*call->sink)(std::string_view(ptr, len))) {
        call->sink_stopped = true;
        return 0;  // makes curl stop with CURLE_WRITE_ERROR
      }
    } else {
      call->body->append(ptr, len);
    }
    return len;
  } catch (const std::exception& e) {
    record_failure(call, e.what());
  } catch (...) {
    record_failure(call, "an exception that is not a std::exception");
  }
  return 0;
}

size_t on_header(char* ptr, size_t size, size_t n, void* user) noexcept {
  auto* call = static_cast<Call*>(user);
  try {
    std::string line(ptr, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r\n") + 1);
      (*call->headers)[name] = value;
    }
    return size * n;
  } catch (const std::exception& e) {
    record_failure(call, e.what());
  } catch (...) {
    record_failure(call, "an exception that is not a std::exception");
  }
  return 0;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* call = static_cast<Call*>(user);
  return call->cancel && call->cancel->load() ? 1 : 0;
}

// Where requests go. With tls-server-name (as client-go's TLSClientConfig.ServerName) the URL
// names that host, so libcurl sends it as SNI and verifies the certificate against it, while
// CONNECT_TO still dials the server's own address and the Host header stays the server's.
struct Route {
  std::string base_url;     // scheme://host:port[/prefix]
  std::string host;         // the server's host:port
  std::string connect_to;   // "name:port:host:port", or ""
  std::string host_header;  // "Host: host:port", or ""
};

Route route_for(const std::string& server, const std::string& tls_server_name) {
  Route r{server, "", "", ""};
  CURLU* u = curl_url();
  if (!u) return r;
  if (curl_url_set(u, CURLUPART_URL, server.c_str(), 0) == CURLUE_OK) {
    auto part = [&](CURLUPart which, unsigned flags) {
      char* v = nullptr;
      std::string out;
      if (curl_url_get(u, which, &v, flags) == CURLUE_OK && v) out = v;
      curl_free(v);
      return out;
    };
    std::string host = part(CURLUPART_HOST, 0);
    std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    r.host = host + ":" + port;
    if (!tls_server_name.empty() && !host.empty() && !port.empty()) {
      std::string path = part(CURLUPART_PATH, 0);
      if (path == "/") path.clear();
      r.base_url = part(CURLUPART_SCHEME, 0) + "://" + tls_server_name + ":" + port + path;
      r.connect_to = tls_server_name + ":" + port + ":" + host + ":" + port;
      r.host_header = "Host: " + host + ":" + port;
    }
  }
  curl_url_cleanup(u);
  return r;
}

class CurlTransport : public Transport {
 public:
  CurlTransport(const ClusterConfig& cfg, std::shared_ptr<Credentials> creds, std::string ua)
      : cfg_(cfg),
        creds_(std::move(creds)),
        user_agent_(std::move(ua)),
        route_(route_for(cfg_.server, cfg_.tls_server_name)) {
    std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  HttpResponse send(const HttpRequest& req) override { return perform(req, nullptr, nullptr); }
  std::string host() const override { return route_.host; }

  HttpResponse stream(const HttpRequest& req, const DataSink& sink,
                      const std::atomic<bool>& cancel) override {
    return perform(req, &sink, &cancel);
  }

 private:
  CURL* take() {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      return h;
    }
    return curl_easy_init();
  }
  void give_back(CURL* h) {
    std::lock_guard lk(mu_);
    // A few kept handles hold the reusable connections; more are closed.
    if (idle_.size() < 16)
      idle_.push_back(h);
    else
      curl_easy_cleanup(h);
  }

  HttpResponse perform(const HttpRequest& req, const DataSink* sink,
                       const std::atomic<bool>* cancel) {
    for (int attempt = 0;; ++attempt) {
      std::string auth = creds_->authorization_header();
      HttpResponse res = perform_once(req, sink, cancel, auth);
      // An expired or rotated credential: refresh once and try again.
      if (res.status == 401 && attempt == 0) {
        creds_->invalidate(auth);
        continue;
      }
      return res;
    }
  }

  HttpResponse perform_once(const HttpRequest& req, const DataSink* sink,
                            const std::atomic<bool>* cancel, const std::string& auth) {
    CURL* h = take();
    curl_easy_reset(h);
    HttpResponse res;
    Call call;
    call.handle = h;
    call.body = &res.body;
    call.sink = sink;
    call.cancel = cancel;
    call.headers = &res.headers;
    std::string url = route_.base_url + req.path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req.timeout_ms);
    if (req.idle_timeout_ms > 0) {
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, (req.idle_timeout_ms + 999) / 1000));
    }
    curl_slist* connect_to = nullptr;
    if (!route_.connect_to.empty()) {
      connect_to = curl_slist_append(connect_to, route_.connect_to.c_str());
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &call);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &call);
    if (cancel) {
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, &call);
    }
    if (req.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (!req.body.empty() || req.method == "POST" || req.method == "PUT" ||
          req.method == "PATCH") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }
    if (!cfg_.proxy_url.empty()) curl_easy_setopt(h, CURLOPT_PROXY, cfg_.proxy_url.c_str());
    if (cfg_.insecure_skip_tls_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!cfg_.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(cfg_.ca_pem.data()), cfg_.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    }
    std::optional<Credentials::ClientCert> cert = creds_->client_certificate();
    if (cert) {
      curl_blob c{const_cast<char*>(cert->cert_pem.data()), cert->cert_pem.size(), CURL_BLOB_COPY};
      curl_blob k{const_cast<char*>(cert->key_pem.data()), cert->key_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
    }
    curl_slist* headers = nullptr;
    auto add = [&](const std::string& line) { headers = curl_slist_append(headers, line.c_str()); };
    if (!route_.host_header.empty()) add(route_.host_header);
    if (!auth.empty()) add("Authorization: " + auth);
    if (!req.content_type.empty()) add("Content-Type: " + req.content_type);
    add("Accept: " + req.accept);
    add("User-Agent: " + user_agent_);
    add("Expect:");  // no 100-continue round trip
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    // Options pointing at this frame's lists must not outlive it in the pooled handle.
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    give_back(h);
    res.status = static_cast<int>(status);
    std::string what = req.method + " " + cfg_.server + req.path.substr(0, req.path.find('?'));
    if (call.callback_failed)
      throw TransportError(what + ": the stream's handler failed: " + call.callback_error);
    if (rc == CURLE_OK) return res;
    // A stream we stopped ourselves is a normal end.
    if ((rc == CURLE_WRITE_ERROR && call.sink_stopped) ||
        (rc == CURLE_ABORTED_BY_CALLBACK && cancel && cancel->load()))
      return res;
    std::string why = curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT && req.idle_timeout_ms > 0)
      why += " (no byte for " + std::to_string(req.idle_timeout_ms / 1000) + " s)";
    // A streamed answer that was already under way ended early: the caller resumes.
    if (sink && status > 0) {
      res.stream_error = why;
      return res;
    }
    throw TransportError(what + ": " + why);
  }

  ClusterConfig cfg_;
  std::shared_ptr<Credentials> creds_;
  std::string user_agent_;
  Route route_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::shared_ptr<Transport> make_curl_transport(const ClusterConfig& config,
                                               std::shared_ptr<Credentials> credentials,
                                               std::string user_agent) {
  return std::make_shared<CurlTransport>(config, std::move(credentials), std::move(user_agent));
}

}  // namespace rc::kube

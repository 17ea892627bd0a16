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
  std::string* body = nullptr;
  const DataSink* sink = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  bool sink_stopped = false;
  std::map<std::string, std::string>* headers = nullptr;
};

size_t on_body(char* ptr, size_t size, size_t n, void* user) {
  auto* call = static_cast<Call*>(user);
  size_t len = size * n;
  if (call->sink) {
    if (!(*call->sink)(std::string_view(ptr, len))) {
      call->sink_stopped = true;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
  } else {
    call->body->append(ptr, len);
  }
  return len;
}

size_t on_header(char* ptr, size_t size, size_t n, void* user) {
  auto* call = static_cast<Call*>(user);
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
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* call = static_cast<Call*>(user);
  return call->cancel && call->cancel->load() ? 1 : 0;
}

class CurlTransport : public Transport {
 public:
  CurlTransport(const ClusterConfig& cfg, std::shared_ptr<Credentials> creds, std::string ua)
      : cfg_(cfg), creds_(std::move(creds)), user_agent_(std::move(ua)) {
    std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  HttpResponse send(const HttpRequest& req) override { return perform(req, nullptr, nullptr); }

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
    Call call{&res.body, sink, cancel, false, &res.headers};
    std::string url = cfg_.server + req.path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req.timeout_ms);
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
    give_back(h);
    res.status = static_cast<int>(status);
    if (rc == CURLE_OK) return res;
    // A stream we stopped ourselves is a normal end.
    if ((rc == CURLE_WRITE_ERROR && call.sink_stopped) ||
        (rc == CURLE_ABORTED_BY_CALLBACK && cancel && cancel->load()))
      return res;
    // A streamed answer that was already under way ended early: the caller resumes.
    if (sink && status > 0) return res;
    throw TransportError(req.method + " " + cfg_.server + req.path.substr(0, req.path.find('?')) +
                         ": " + curl_easy_strerror(rc));
  }

  ClusterConfig cfg_;
  std::shared_ptr<Credentials> creds_;
  std::string user_agent_;
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

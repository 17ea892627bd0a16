#include "remotecode/kube/client.h"

#include "remotecode/util/encoding.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <random>
#include <thread>

namespace rc::kube {

using nlohmann::json;

std::string url_escape(const std::string& s) {
  return util::url_escape(s);
}

std::string ResourceRef::collection_path(const std::string& ns) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + url_escape(ns);
  return p + "/" + resource;
}

std::string ResourceRef::item_path(const std::string& ns, const std::string& name,
                                   const std::string& subresource) const {
  std::string p = collection_path(namespaced ? ns : "") + "/" + url_escape(name);
  return subresource.empty() ? p : p + "/" + subresource;
}

Client::Client(std::shared_ptr<Transport> transport, ClientOptions options)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      tokens_(options_.burst),
      last_refill_(std::chrono::steady_clock::now()) {}

std::shared_ptr<Client> Client::connect(const ClusterConfig& config, ClientOptions options) {
  auto creds = std::make_shared<Credentials>(config);
  auto transport = make_curl_transport(config, creds, options.user_agent);
  return std::make_shared<Client>(transport, std::move(options));
}

std::shared_ptr<Client> Client::with_options(ClientOptions options) const {
  return std::make_shared<Client>(transport_, std::move(options));
}

void Client::acquire_token(std::chrono::steady_clock::time_point deadline) {
  if (options_.qps <= 0) return;
  std::unique_lock lk(bucket_mu_);
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
    last_refill_ = now;
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return;
    }
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>((1 - tokens_) / options_.qps));
    if (deadline - now <= wait)
      throw TransportError("client rate limit: no token before the request's deadline");
    lk.unlock();
    std::this_thread::sleep_for(wait);
    lk.lock();
  }
}

namespace {

std::chrono::milliseconds backoff_delay(int attempt) {
  // 200 ms doubling to 10 s, with up to 50% jitter so retries of many clients spread out.
  static thread_local std::mt19937 rng{std::random_device{}()};
  double base = std::min(10000.0, 200.0 * std::pow(2.0, attempt));
  std::uniform_real_distribution<double> jitter(1.0, 1.5);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

std::string path_only(const std::string& path) {
  return path.substr(0, path.find('?'));
}

}  // namespace

HttpResponse Client::request(HttpRequest req, bool idempotent) {
  using Clock = std::chrono::steady_clock;
  const long per_attempt = req.timeout_ms == 30000 ? options_.timeout_ms : req.timeout_ms;
  Clock::time_point deadline = req.deadline;
  if (deadline == Clock::time_point{})
    deadline = options_.deadline_ms > 0
                   ? Clock::now() + std::chrono::milliseconds(options_.deadline_ms)
                   : Clock::time_point::max();
  auto remaining_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  };
  auto expired = [&] {
    return TransportError(req.method + " " + path_only(req.path) +
                          ": deadline exceeded before an answer came");
  };
  for (int attempt = 0;; ++attempt) {
    acquire_token(deadline);
    if (deadline != Clock::time_point::max()) {
      long left = static_cast<long>(remaining_ms());
      if (left <= 0) throw expired();
      // An attempt never outlives the request's deadline (libcurl: 0 means no timeout).
      req.timeout_ms = per_attempt > 0 ? std::min(per_attempt, left) : left;
    } else {
      req.timeout_ms = per_attempt;
    }
    // Sleeps before the next attempt unless that would pass the deadline.
    auto may_wait = [&](std::chrono::milliseconds d) {
      return deadline == Clock::time_point::max() || Clock::now() + d < deadline;
    };
    HttpResponse res;
    try {
      res = transport_->send(req);
    } catch (const TransportError& e) {
      if (observer_) observer_->on_request(req.method, "<error>");
      auto d = backoff_delay(attempt);
      if (!idempotent || attempt >= options_.max_retries || !may_wait(d)) throw;
      spdlog::debug("kube: {} {} failed ({}); retrying in {} ms", req.method, path_only(req.path),
                    e.what(), d.count());
      std::this_thread::sleep_for(d);
      continue;
    }
    if (observer_) observer_->on_request(req.method, std::to_string(res.status));
    if (res.status >= 200 && res.status < 300) return res;
    bool retry = attempt < options_.max_retries &&
                 (res.status == 429 || (idempotent && res.status >= 500 && res.status != 501));
    std::chrono::milliseconds d = backoff_delay(attempt);
    if (auto it = res.headers.find("retry-after"); it != res.headers.end()) {
      try {
        d = std::chrono::seconds(std::clamp(std::stoi(it->second), 0, 60));
      } catch (const std::exception&) {
      }
    }
    if (!retry || !may_wait(d))
      throw ApiError(res.status, res.body, req.method, path_only(req.path));
    spdlog::debug("kube: {} {} answered {}; retrying in {} ms", req.method, path_only(req.path),
                  res.status, d.count());
    std::this_thread::sleep_for(d);
  }
}

HttpResponse Client::stream(const HttpRequest& req, const DataSink& sink,
                            const std::atomic<bool>& cancel) {
  acquire_token();
  try {
    HttpResponse res = transport_->stream(req, sink, cancel);
    if (observer_) observer_->on_request(req.method, std::to_string(res.status));
    return res;
  } catch (const TransportError&) {
    if (observer_) observer_->on_request(req.method, "<error>");
    throw;
  }
}

json Client::get(const ResourceRef& ref, const std::string& ns, const std::string& name) {
  return json::parse(request({"GET", ref.item_path(ns, name)}, true).body);
}

ListResult Client::list(const ResourceRef& ref, const std::string& ns, const ListOptions& opts) {
  ListResult out;
  std::string cont;
  do {
    std::string q = "?limit=" + std::to_string(opts.limit);
    if (!opts.label_selector.empty()) q += "&labelSelector=" + url_escape(opts.label_selector);
    if (!opts.field_selector.empty()) q += "&fieldSelector=" + url_escape(opts.field_selector);
    if (!cont.empty())
      q += "&continue=" + url_escape(cont);
    else if (!opts.resource_version.empty())
      q += "&resourceVersion=" + url_escape(opts.resource_version);
    json page = json::parse(request({"GET", ref.collection_path(ns) + q}, true).body);
    for (auto& item : page["items"]) {
      // List items of built-in types carry no kind/apiVersion; give them back.
      if (!item.contains("kind")) {
        std::string kind = page.value("kind", "");
        if (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0)
          item["kind"] = kind.substr(0, kind.size() - 4);
        item["apiVersion"] = ref.api_version();
      }
      out.items.push_back(std::move(item));
    }
    cont = page["metadata"].value("continue", "");
    // A page's resourceVersion is the first page's: the consistent snapshot watches resume from.
    if (out.resource_version.empty())
      out.resource_version = page["metadata"].value("resourceVersion", "");
  } while (!cont.empty());
  return out;
}

json Client::create(const ResourceRef& ref, const std::string& ns, const json& obj) {
  HttpRequest r{"POST",
                ref.collection_path(ns) + "?fieldManager=" + url_escape(options_.field_manager),
                obj.dump(), "application/json"};
  return json::parse(request(r, false).body);
}

json Client::update(const ResourceRef& ref, const json& obj) {
  const auto& md = obj.at("metadata");
  HttpRequest r{"PUT",
                ref.item_path(md.value("namespace", ""), md.value("name", "")) +
                    "?fieldManager=" + url_escape(options_.field_manager),
                obj.dump(), "application/json"};
  // With a resourceVersion an update is safe to repeat: a duplicate is a 409, never a lost write.
  return json::parse(request(r, md.contains("resourceVersion")).body);
}

json Client::update_status(const ResourceRef& ref, const json& obj) {
  const auto& md = obj.at("metadata");
  HttpRequest r{"PUT",
                ref.item_path(md.value("namespace", ""), md.value("name", ""), "status") +
                    "?fieldManager=" + url_escape(options_.field_manager),
                obj.dump(), "application/json"};
  return json::parse(request(r, md.contains("resourceVersion")).body);
}

json Client::patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                   PatchType type, const json& patch, const std::string& subresource) {
  const char* ct = type == PatchType::Merge       ? "application/merge-patch+json"
                   : type == PatchType::Json      ? "application/json-patch+json"
                   : type == PatchType::Strategic ? "application/strategic-merge-patch+json"
                                                  : "application/apply-patch+yaml";
  HttpRequest r{
      "PATCH",
      ref.item_path(ns, name, subresource) + "?fieldManager=" + url_escape(options_.field_manager),
      patch.dump(), ct};
  // A JSON patch may add to lists: replaying it is not safe. The others converge.
  return json::parse(request(r, type != PatchType::Json).body);
}

json Client::apply(const ResourceRef& ref, const json& obj, bool force,
                   const std::string& subresource) {
  const auto& md = obj.at("metadata");
  HttpRequest r{"PATCH",
                ref.item_path(md.value("namespace", ""), md.value("name", ""), subresource) +
                    "?fieldManager=" + url_escape(options_.field_manager) +
                    (force ? "&force=true" : ""),
                obj.dump(), "application/apply-patch+yaml"};
  return json::parse(request(r, true).body);
}

json Client::remove(const ResourceRef& ref, const std::string& ns, const std::string& name,
                    const DeleteOptions& opts) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (opts.propagation) body["propagationPolicy"] = *opts.propagation;
  if (opts.grace_period_seconds) body["gracePeriodSeconds"] = *opts.grace_period_seconds;
  if (opts.precondition_uid) body["preconditions"]["uid"] = *opts.precondition_uid;
  if (opts.precondition_resource_version)
    body["preconditions"]["resourceVersion"] = *opts.precondition_resource_version;
  HttpRequest r{"DELETE", ref.item_path(ns, name), body.dump(), "application/json"};
  return json::parse(request(r, true).body);
}

std::string Client::logs(const std::string& ns, const std::string& pod,
                         const std::string& container, std::optional<int64_t> tail_lines) {
  ResourceRef pods{"", "v1", "pods", true};
  std::string q;
  if (!container.empty()) q += "container=" + url_escape(container);
  if (tail_lines)
    q += std::string(q.empty() ? "" : "&") + "tailLines=" + std::to_string(*tail_lines);
  HttpRequest r{"GET", pods.item_path(ns, pod, "log") + (q.empty() ? "" : "?" + q)};
  // As client-go asks: the apiserver refuses text/plain alone (406), then sends the log as text.
  r.accept = "application/json, */*";
  return request(r, true).body;
}

}  // namespace rc::kube

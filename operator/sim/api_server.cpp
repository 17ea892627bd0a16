#include "remotecode/sim/api_server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "remotecode/sim/discovery.h"
#include "remotecode/sim/patch.h"
#include "remotecode/sim/protobuf_body.h"
#include "remotecode/sim/table.h"
#include "remotecode/sim/yaml_json.h"
#include "remotecode/util/encoding.h"

namespace rc::sim {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response json_response(int status, const json& body) {
  return Response::json(status, body.dump() + "\n");
}

Response status_response(const StatusError& e) {
  Response r = json_response(e.code(), e.status());
  for (const auto& [k, v] : e.headers) r.headers.emplace_back(k, v);
  return r;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '/'))
    if (!seg.empty()) out.push_back(seg);
  return out;
}

bool wants_table(const Request& req) {
  std::string accept = req.header("Accept");
  return accept.find("as=Table") != std::string::npos;
}

// The apiserver negotiates even a log's media type with its serializers: an Accept header that
// names none of them (text/plain alone) is 406, however the log is then sent.
bool accepts_api_media_type(const std::string& accept) {
  if (accept.empty()) return true;
  for (const char* ok : {"*/*", "application/*", "application/json", "application/yaml",
                         "application/vnd.kubernetes.protobuf"})
    if (accept.find(ok) != std::string::npos) return true;
  return false;
}

// strconv.ParseBool, as the apiserver reads boolean query parameters.
bool truthy(const std::optional<std::string>& v) {
  return v && (*v == "1" || *v == "t" || *v == "T" || *v == "true" || *v == "TRUE" || *v == "True");
}

void add_warnings(Response& r, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) {
    std::string escaped;
    for (char c : w) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    r.headers.emplace_back("Warning", "299 - \"" + escaped + "\"");
  }
}

// The object a watch sends for a change, or nothing when the change is not visible through
// this watch's namespace and selectors (moving out of a selector is seen as DELETED).
struct Visible {
  bool show = false;
  const char* type = "";
};

bool matches(const json& obj, const std::string& ns, const ListOptions& opts) {
  const auto& md = obj["metadata"];
  if (!ns.empty() && md.value("namespace", "") != ns) return false;
  if (!opts.labels.matches(md.value("labels", json::object()))) return false;
  if (!opts.fields.empty() && !opts.fields.matches(obj)) return false;
  return true;
}

Visible visible(const Change& c, const std::string& ns, const ListOptions& opts) {
  bool now = matches(*c.object, ns, opts);
  bool before = c.previous && matches(*c.previous, ns, opts);
  switch (c.type) {
    case EventType::Added:
      return {now, "ADDED"};
    case EventType::Deleted:
      return {before || now, "DELETED"};
    case EventType::Modified:
      if (now && before) return {true, "MODIFIED"};
      if (now) return {true, "ADDED"};
      if (before) return {true, "DELETED"};
      return {};
  }
  return {};
}

}  // namespace

ApiServer::ApiServer(Api& api, Faults& faults, PodScripts& scripts, ApiServerOptions options)
    : api_(api),
      faults_(faults),
      scripts_(scripts),
      options_(std::move(options)),
      openapi_(api.types(), options_.openapi_dir) {}

void ApiServer::set_log_source(LogSource source, LogFollower follower) {
  logs_ = std::move(source);
  follow_logs_ = std::move(follower);
}

json ApiServer::request_counts() const {
  std::lock_guard lk(counts_mu_);
  return counts_;
}

void ApiServer::count(const std::string& verb, const ResourceType& rt, const std::string& sub,
                      const std::string& user_agent) {
  std::string key = verb + " " + rt.plural + (sub.empty() ? "" : "/" + sub) + " " +
                    (rt.group.empty() ? "core" : rt.group) + " " +
                    default_field_manager(user_agent);
  std::lock_guard lk(counts_mu_);
  ++counts_[key];
}

void ApiServer::hold_while(const std::function<bool()>& fault_holds) const {
  while (!stopping_ && fault_holds()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

Response ApiServer::handle(Request& req) {
  auto started = std::chrono::steady_clock::now();
  Response res;
  try {
    std::string path = req.path;
    if (faults_.blackholed(req.header("User-Agent"))) {
      // Injected: the request never arrived. Nothing is served; the connection stays open and
      // silent until the fault is lifted, then ends with an answer the client stopped awaiting.
      hold_while([&] { return faults_.blackholed(req.header("User-Agent")); });
      throw StatusError(504, "Timeout", "injected fault: this client was black-holed");
    }
    if (path == "/healthz" || path == "/livez" || path == "/readyz")
      return Response::text(200, "ok");
    std::string user;
    std::string auth = req.header("Authorization");
    if (!options_.token.empty() && auth == "Bearer " + options_.token) {
      user = "admin";
    } else if (req.client_cert_cn) {
      user = *req.client_cert_cn;
    } else if (path == "/version") {
      user = "system:anonymous";
    } else {
      throw unauthorized();
    }
    res = route(req, user);
  } catch (const StatusError& e) {
    res = status_response(e);
  } catch (const nlohmann::json::exception& e) {
    res = status_response(bad_request(std::string("malformed request: ") + e.what()));
  } catch (const std::exception& e) {
    spdlog::error("sim: {} {} failed: {}", req.method, req.target, e.what());
    res = status_response(internal_error(e.what()));
  }
  res.set_header("Cache-Control", "no-cache, private");
  res.set_header("Audit-Id", new_uid());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  if (!res.stream)
    spdlog::debug("sim: {} {} -> {} ({} ms)", req.method, req.target, res.status, ms);
  return res;
}

Response ApiServer::route(Request& req, const std::string& user) {
  auto segs = split_path(req.path);
  const std::string& m = req.method;
  if (segs.empty()) {
    json paths = json::array({"/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2",
                              "/openapi/v3", "/readyz", "/version"});
    return json_response(200, {{"paths", paths}});
  }
  if (segs[0] == "version" && segs.size() == 1) return json_response(200, version_info());
  if (segs[0] == "sim") {
    if (segs.size() == 2 && segs[1] == "faults") {
      if (m == "GET") return json_response(200, faults_.to_json());
      if (m == "PUT" || m == "PATCH" || m == "POST") {
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded()) throw bad_request("faults: the body is not JSON");
        try {
          faults_.set(Faults::from_json(body, m == "PUT" ? FaultConfig{} : faults_.get()));
        } catch (const std::exception& e) {
          throw bad_request(std::string("faults: ") + e.what());
        }
        return json_response(200, faults_.to_json());
      }
    }
    if (segs.size() == 2 && segs[1] == "pod-scripts") {
      if (m == "PUT") {
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded()) throw bad_request("pod-scripts: the body is not JSON");
        try {
          scripts_.set(body);
        } catch (const std::exception& e) {
          throw bad_request(e.what());
        }
      }
      return json_response(200, scripts_.get());
    }
    if (segs.size() == 2 && segs[1] == "requests") {
      if (m == "DELETE") {
        std::lock_guard lk(counts_mu_);
        counts_.clear();
      }
      return json_response(200, request_counts());
    }
    throw path_not_found(req.path);
  }
  if (segs[0] == "openapi") {
    if (segs.size() == 2 && segs[1] == "v2") {
      if (openapi_.swagger().empty()) throw path_not_found(req.path);
      return Response::json(200, openapi_.swagger());
    }
    if (segs.size() >= 2 && segs[1] == "v3") {
      if (segs.size() == 2) return json_response(200, openapi_.index());
      std::string p;
      for (size_t i = 2; i < segs.size(); ++i) p += (p.empty() ? "" : "/") + segs[i];
      std::string doc = openapi_.document(p);
      if (doc.empty()) throw path_not_found(req.path);
      Response r = Response::json(200, std::move(doc));
      r.set_header("Cache-Control", "public, immutable");
      return r;
    }
    throw path_not_found(req.path);
  }
  if (segs[0] == "api") {
    if (segs.size() == 1) return json_response(200, api_versions(server_address_));
    std::string version = segs[1];
    if (segs.size() == 2) {
      json l = api_resource_list(api_.types(), "", version);
      if (l.is_null()) throw path_not_found(req.path);
      return json_response(200, l);
    }
    std::vector<std::string> rest(segs.begin() + 2, segs.end());
    bool watch_prefix = !rest.empty() && rest[0] == "watch";
    if (watch_prefix) rest.erase(rest.begin());
    return resource_request(req, "", version, rest, watch_prefix, user);
  }
  if (segs[0] == "apis") {
    if (segs.size() == 1) return json_response(200, api_group_list(api_.types()));
    std::string group = segs[1];
    if (segs.size() == 2) {
      json groups = api_group_list(api_.types());
      for (const auto& g : groups["groups"])
        if (g["name"] == group) {
          json out = g;
          out["kind"] = "APIGroup";
          out["apiVersion"] = "v1";
          return json_response(200, out);
        }
      throw path_not_found(req.path);
    }
    std::string version = segs[2];
    if (segs.size() == 3) {
      json l = api_resource_list(api_.types(), group, version);
      if (l.is_null()) throw path_not_found(req.path);
      return json_response(200, l);
    }
    std::vector<std::string> rest(segs.begin() + 3, segs.end());
    bool watch_prefix = !rest.empty() && rest[0] == "watch";
    if (watch_prefix) rest.erase(rest.begin());
    return resource_request(req, group, version, rest, watch_prefix, user);
  }
  throw path_not_found(req.path);
}

Response ApiServer::resource_request(Request& req, const std::string& group,
                                     const std::string& version, std::vector<std::string> segs,
                                     bool watch_prefix, const std::string& user) {
  (void)user;
  std::string ns;
  if (segs.size() >= 3 && segs[0] == "namespaces" &&
      !(segs.size() == 3 && (segs[2] == "status" || segs[2] == "finalize") && group.empty())) {
    ns = segs[1];
    segs.erase(segs.begin(), segs.begin() + 2);
  }
  if (segs.empty() || segs.size() > 3) throw path_not_found(req.path);
  auto rt_ptr = api_.types().find(group, version, segs[0]);
  if (!rt_ptr) throw path_not_found(req.path);
  const ResourceType& rt = *rt_ptr;
  if (!rt.namespaced && !ns.empty()) throw path_not_found(req.path);
  std::string name = segs.size() >= 2 ? segs[1] : "";
  std::string sub = segs.size() == 3 ? segs[2] : "";
  if (!sub.empty() && !((sub == "status" && rt.has_status) || (sub == "log" && rt.has_log)))
    throw path_not_found(req.path);

  const std::string& m = req.method;
  bool is_watch = watch_prefix || truthy(req.param("watch"));
  std::string verb;
  if (m == "GET")
    verb = !name.empty() && !is_watch ? "get" : is_watch ? "watch" : "list";
  else if (m == "POST" && name.empty())
    verb = "create";
  else if (m == "PUT" && !name.empty())
    verb = "update";
  else if (m == "PATCH" && !name.empty())
    verb = "patch";
  else if (m == "DELETE")
    verb = name.empty() ? "deletecollection" : "delete";
  else
    throw StatusError(405, "MethodNotAllowed",
                      "the server does not allow this method on the requested resource");
  count(verb, rt, sub, req.header("User-Agent"));
  faults_.before_request(verb);
  if (verb == "watch" && faults_.take_unauthorized_watch()) throw unauthorized();

  if (sub == "log") {
    if (!logs_) throw path_not_found(req.path);
    if (!accepts_api_media_type(req.header("Accept")))
      throw StatusError(406, "NotAcceptable",
                        "only the following media types are accepted: application/json, "
                        "application/yaml, application/vnd.kubernetes.protobuf");
    LogRequest lr;
    lr.namespace_name = ns;
    lr.pod = name;
    lr.container = req.param("container").value_or("");
    if (auto t = req.param("tailLines")) lr.tail_lines = std::stoll(*t);
    lr.follow = truthy(req.param("follow"));
    lr.timestamps = truthy(req.param("timestamps"));
    lr.previous = truthy(req.param("previous"));
    api_.get(rt, ns, name);  // 404 for a missing pod
    if (lr.follow && follow_logs_) {
      Response r;
      r.headers.emplace_back("Content-Type", "text/plain");
      auto follower = follow_logs_;
      r.stream = [follower, lr](http::ChunkSink& sink) {
        follower(lr, [&sink](const std::string& chunk) {
          if (sink.done()) return false;
          return chunk.empty() ? true : sink.write(chunk);
        });
      };
      return r;
    }
    return Response::text(200, logs_(lr));
  }

  std::vector<std::string> warnings;
  WriteOptions wopt;
  wopt.field_manager = req.param("fieldManager").value_or("");
  wopt.dry_run = req.param("dryRun").value_or("") == "All";
  wopt.field_validation = req.param("fieldValidation").value_or("Warn");
  if (wopt.field_validation != "Ignore" && wopt.field_validation != "Warn" &&
      wopt.field_validation != "Strict")
    throw bad_request("fieldValidation parameter unsupported: " + wopt.field_validation);
  wopt.force = truthy(req.param("force"));
  wopt.status = sub == "status";
  wopt.warnings = &warnings;
  std::string ua = req.header("User-Agent");
  std::string ct = req.header("Content-Type");

  auto parse_body = [&]() {
    // kubectl's imperative commands send protobuf; the common kinds are decoded.
    if (ct.find("protobuf") != std::string::npos) return decode_protobuf_body(req.body);
    if (ct.find("cbor") != std::string::npos) throw unsupported_media_type(ct);
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_discarded()) return body;
    // YAML bodies (Content-Type application/yaml) are accepted too, as the apiserver does.
    try {
      return yaml_to_json(req.body);
    } catch (const std::exception& e) {
      throw bad_request(std::string("the body of the request could not be decoded: ") + e.what());
    }
  };

  ListOptions lopt;
  try {
    lopt.labels = kube::LabelSelector::parse(req.param("labelSelector").value_or(""));
    lopt.fields = kube::FieldSelector::parse(req.param("fieldSelector").value_or(""));
  } catch (const kube::SelectorError& e) {
    throw bad_request(std::string("unable to parse requirement: ") + e.what());
  }
  if (auto l = req.param("limit")) {
    try {
      lopt.limit = std::stoll(*l);
    } catch (const std::exception&) {
      throw bad_request("limit must be an integer");
    }
  }
  lopt.continue_token = req.param("continue").value_or("");

  Response res;
  if (verb == "get") {
    if (sub == "status" || sub.empty()) {
      json obj = api_.get(rt, ns, name);
      if (wants_table(req)) {
        auto ptr = std::make_shared<const json>(obj);
        res = json_response(
            200, make_table(rt, {ptr},
                            {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}},
                            req.param("includeObject").value_or("Metadata")));
      } else {
        res = json_response(200, obj);
      }
    }
  } else if (verb == "list") {
    auto result = api_.list(rt, ns, lopt);
    json md = {{"resourceVersion", std::to_string(result.resource_version)}};
    if (!result.continue_token.empty() || rt.custom) md["continue"] = result.continue_token;
    if (result.remaining) md["remainingItemCount"] = *result.remaining;
    if (wants_table(req)) {
      res = json_response(
          200, make_table(rt, result.items, md, req.param("includeObject").value_or("Metadata")));
    } else {
      std::string body = "{\"kind\":" + json(rt.list_kind()).dump() +
                         ",\"apiVersion\":" + json(rt.api_version()).dump() +
                         ",\"metadata\":" + md.dump() + ",\"items\":[";
      for (size_t i = 0; i < result.items.size(); ++i) {
        if (i) body += ",";
        if (rt.custom) {
          body += result.items[i]->dump();
        } else {
          // Items of built-in lists carry no kind/apiVersion on a real server.
          json item = *result.items[i];
          item.erase("kind");
          item.erase("apiVersion");
          body += item.dump();
        }
      }
      body += "]}\n";
      res = Response::json(200, std::move(body));
    }
  } else if (verb == "watch") {
    api_.check_field_selector(rt, lopt.fields);
    return watch(rt, ns, lopt, req, wants_table(req));
  } else if (verb == "create") {
    if (wopt.field_manager.empty()) wopt.field_manager = default_field_manager(ua);
    json obj = api_.create(rt, ns, parse_body(), wopt);
    res = json_response(201, obj);
  } else if (verb == "update") {
    if (wopt.field_manager.empty()) wopt.field_manager = default_field_manager(ua);
    json obj = api_.update(rt, ns, name, parse_body(), wopt);
    res = json_response(200, obj);
  } else if (verb == "patch") {
    bool apply = ct.rfind("application/apply-patch", 0) == 0;
    if (wopt.field_manager.empty() && !apply) wopt.field_manager = default_field_manager(ua);
    bool created = false;
    json obj = api_.patch(rt, ns, name, ct, req.body, wopt, &created);
    res = json_response(created ? 201 : 200, obj);
  } else if (verb == "delete" || verb == "deletecollection") {
    DeleteOptions dopt;
    dopt.warnings = &warnings;
    json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (body.is_discarded())
      throw bad_request("the DeleteOptions in the body could not be decoded");
    if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string())
      dopt.propagation = body["propagationPolicy"].get<std::string>();
    if (body.contains("orphanDependents") && body["orphanDependents"].is_boolean())
      dopt.propagation = body["orphanDependents"].get<bool>() ? "Orphan" : "Background";
    if (auto p = req.param("propagationPolicy")) dopt.propagation = *p;
    if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number())
      dopt.grace_period_seconds = body["gracePeriodSeconds"].get<int64_t>();
    if (auto g = req.param("gracePeriodSeconds")) dopt.grace_period_seconds = std::stoll(*g);
    if (body.contains("preconditions")) {
      const auto& pc = body["preconditions"];
      if (pc.contains("uid") && pc["uid"].is_string())
        dopt.precondition_uid = pc["uid"].get<std::string>();
      if (pc.contains("resourceVersion") && pc["resourceVersion"].is_string())
        dopt.precondition_rv = pc["resourceVersion"].get<std::string>();
    }
    dopt.dry_run = wopt.dry_run || (body.contains("dryRun") && body["dryRun"].is_array() &&
                                    !body["dryRun"].empty());
    if (verb == "delete") {
      auto r = api_.remove(rt, ns, name, dopt);
      res = json_response(200, r.body);
    } else {
      res = json_response(200, api_.delete_collection(rt, ns, lopt, dopt));
    }
  }
  add_warnings(res, warnings);
  return res;
}

Response ApiServer::watch(const ResourceType& rt_in, const std::string& ns, const ListOptions& opts,
                          Request& req, bool as_table) {
  auto rt = api_.types().find(rt_in.group, rt_in.version, rt_in.plural);
  std::string rv_param = req.param("resourceVersion").value_or("");
  bool bookmarks = truthy(req.param("allowWatchBookmarks"));
  bool send_initial = truthy(req.param("sendInitialEvents"));
  std::string include_object = req.param("includeObject").value_or("Metadata");
  int64_t timeout = 0;
  if (auto t = req.param("timeoutSeconds")) {
    try {
      timeout = std::stoll(*t);
    } catch (const std::exception&) {
      throw bad_request("timeoutSeconds must be an integer");
    }
  }
  if (timeout <= 0) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    int base = options_.min_request_timeout_seconds;
    timeout = base + static_cast<int64_t>(rng() % static_cast<unsigned>(base > 0 ? base : 1));
  }
  uint64_t from = 0;
  bool initial = rv_param.empty() || rv_param == "0" || send_initial;
  if (!rv_param.empty() && rv_param != "0") {
    try {
      from = std::stoull(rv_param);
    } catch (const std::exception&) {
      throw bad_request("resourceVersion: Invalid value: \"" + rv_param + "\": must be a number");
    }
  }
  if (faults_.stall_watches()) {
    // Injected: accepted, then nothing at all, not even the header.
    hold_while([&] { return faults_.stall_watches(); });
    throw StatusError(504, "Timeout", "injected fault: this watch was stalled");
  }
  bool forced_410 = faults_.take_forced_410();
  int injected_error = faults_.watch_error_code();
  std::string user_agent = req.header("User-Agent");
  int bookmark_every = options_.bookmark_interval_seconds;
  Store& store = api_.store();

  Response r;
  r.headers.emplace_back("Content-Type", "application/json");
  r.stream = [=, this, &store](http::ChunkSink& sink) {
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::seconds(timeout);
    // Read on every turn, so a fault set while a watch is open closes it too.
    auto close_at = [&] {
      int close_after = faults_.close_watch_seconds();
      return close_after > 0 ? start + std::chrono::seconds(close_after)
                             : std::chrono::steady_clock::time_point::max();
    };
    auto next_bookmark = start + std::chrono::seconds(bookmark_every);
    bool first_table = true;

    auto encode = [&](const char* type, const json& obj) {
      std::string out = "{\"type\":\"";
      out += type;
      out += "\",\"object\":";
      if (as_table) {
        json t = make_table(*rt, {std::make_shared<const json>(obj)},
                            {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}},
                            include_object, first_table);
        first_table = false;
        out += t.dump();
      } else {
        out += obj.dump();
      }
      out += "}\n";
      return out;
    };
    auto bookmark = [&](uint64_t rv, bool initial_end) {
      json md = {{"resourceVersion", std::to_string(rv)}};
      if (!rt->custom) md["creationTimestamp"] = nullptr;
      if (initial_end) {
        md["annotations"] = {{"k8s.io/initial-events-end", "true"}};
        if (!rt->custom)
          md["annotations"]["kubernetes.io/initial-events-list-blueprint"] =
              util::base64_encode("{\"kind\":\"" + rt->list_kind() + "\",\"apiVersion\":\"" +
                                  rt->api_version() + "\",\"metadata\":{},\"items\":null}\n");
      }
      // A bookmark is the type's empty object carrying only the resourceVersion.
      json obj = empty_object_of(rt->api_version(), rt->kind);
      obj["metadata"] = md;
      return "{\"type\":\"BOOKMARK\",\"object\":" + obj.dump() + "}\n";
    };
    auto expired_event = [&](uint64_t asked, uint64_t oldest) {
      json st = expired("too old resource version: " + std::to_string(asked) + " (" +
                        std::to_string(oldest + 1) + ")")
                    .status();
      return "{\"type\":\"ERROR\",\"object\":" + st.dump() + "}\n";
    };

    // Injected half-open connection: from now on this stream sends nothing, whatever happens,
    // until the client hangs up.
    auto fall_silent = [&] {
      if (!faults_.silenced(user_agent)) return false;
      while (!stopping_ && !sink.done())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return true;
    };
    uint64_t pos = from;
    if (injected_error != 0) {
      json st = StatusError(injected_error, "InternalError",
                            "injected fault: the watch failed on purpose")
                    .status();
      sink.write("{\"type\":\"ERROR\",\"object\":" + st.dump() + "}\n");
      return;
    }
    if (forced_410) {
      uint64_t oldest;
      {
        std::lock_guard lk(store.mutex());
        oldest = store.current_rv();
      }
      sink.write(expired_event(from, oldest));
      return;
    }
    if (initial) {
      std::vector<ObjPtr> snapshot;
      {
        std::lock_guard lk(store.mutex());
        snapshot = store.list(rt->id(), rt->namespaced ? ns : "");
        pos = store.current_rv();
      }
      std::string batch;
      for (const auto& o : snapshot) {
        if (!matches(*o, rt->namespaced ? ns : "", opts)) continue;
        batch += encode("ADDED", *o);
        if (batch.size() > 256 * 1024) {
          if (!sink.write(batch)) return;
          batch.clear();
        }
      }
      if (send_initial && bookmarks) batch += bookmark(pos, true);
      if (!batch.empty() && !sink.write(batch)) return;
    }
    std::vector<Change> changes;
    while (!stopping_) {
      if (fall_silent()) return;
      changes.clear();
      bool ok;
      uint64_t oldest = 0;
      {
        std::unique_lock lk(store.mutex());
        ok = store.changes_since(pos, changes, 2000);
        oldest = store.oldest_watchable_rv();
        if (ok && changes.empty()) {
          if (pos > store.current_rv()) pos = store.current_rv();
          auto wake = std::min({deadline, close_at(), next_bookmark,
                                std::chrono::steady_clock::now() + std::chrono::milliseconds(500)});
          store.changed().wait_until(lk, wake);
          ok = store.changes_since(pos, changes, 2000);
        }
        if (ok && changes.empty()) pos = std::max(pos, store.current_rv());
      }
      if (!ok) {
        sink.write(expired_event(pos, oldest));
        return;
      }
      std::string batch;
      for (const auto& c : changes) {
        pos = c.rv;
        if (c.storage_id != rt->id()) continue;
        auto v = visible(c, rt->namespaced ? ns : "", opts);
        if (!v.show) continue;
        json obj = *c.object;
        if (rt->custom || obj.value("apiVersion", "") != rt->api_version())
          obj["apiVersion"] = rt->api_version();
        batch += encode(v.type, obj);
      }
      if (fall_silent()) return;
      auto now = std::chrono::steady_clock::now();
      if (bookmarks && now >= next_bookmark) {
        batch += bookmark(pos, false);
        next_bookmark = now + std::chrono::seconds(bookmark_every);
      }
      if (!batch.empty() && !sink.write(batch)) return;
      if (sink.done() || now >= deadline || now >= close_at()) return;
    }
  };
  return r;
}

}  // namespace rc::sim

// Datasets: everyone signed in sees and uploads them (they are shared, like the volume);
// only the uploader or an admin deletes one. Uploads stream from the connection to disk.
#include <algorithm>
#include <cstring>

#include "remotecode/portal/context.h"

namespace rc::portal {

using nlohmann::json;

namespace {

json dataset_view(const Dataset& d) {
  return {{"name", d.name}, {"size", d.size}, {"modified", d.modified}, {"owner", d.owner}};
}

DatasetStore& store_or_503(Context& ctx) {
  if (!ctx.datasets)
    throw HttpError(503, "unavailable", "datasets are not configured (--datasets-dir)");
  return *ctx.datasets;
}

// The declared body size, when the client gave a valid one.
std::optional<uint64_t> content_length(const http::Request& req) {
  std::string value = req.header("Content-Length");
  if (value.empty() ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  try {
    return std::stoull(value);
  } catch (const std::exception&) {
    return UINT64_MAX;  // more digits than fit: certainly too large
  }
}

// The body as the store reads it: from the connection when the server streams it, else from
// the copy already in memory.
BodyReader body_reader(http::Request& req) {
  if (req.read_body) return req.read_body;
  return [&req, offset = size_t{0}](char* buf, size_t n) mutable {
    size_t take = std::min(n, req.body.size() - offset);
    std::memcpy(buf, req.body.data() + offset, take);
    offset += take;
    return take;
  };
}

}  // namespace

void add_dataset_routes(Router& router, Context& ctx) {
  router.add("GET", "/api/v1/datasets", Access::SignedIn, [&ctx](Call&) {
    json items = json::array();
    for (const auto& d : store_or_503(ctx).list()) items.push_back(dataset_view(d));
    return json_response(200, {{"items", items}});
  });

  router.add("POST", "/api/v1/datasets/{name}", Access::SignedIn, [&ctx](Call& call) {
    DatasetStore& store = store_or_503(ctx);
    const std::string& name = call.param("name");
    if (auto problem = dataset_name_problem(name); !problem.empty()) throw bad_request(problem);
    uint64_t limit = ctx.options.max_upload_bytes;
    auto length = content_length(call.request);
    if (length && *length > limit)
      throw HttpError(413, "too_large",
                      "the upload is larger than the limit of " + std::to_string(limit) + " bytes");
    Dataset d = store.upload(name, call.who().user, body_reader(call.request), limit);
    return json_response(201, dataset_view(d));
  });

  router.add("DELETE", "/api/v1/datasets/{name}", Access::SignedIn, [&ctx](Call& call) {
    DatasetStore& store = store_or_503(ctx);
    const std::string& name = call.param("name");
    auto d = store.get(name);
    if (!d) throw not_found("dataset " + name + " not found");
    if (!call.who().admin() && d->owner != call.who().user)
      throw forbidden("only the uploader of " + name + " or an admin may delete it");
    if (!store.remove(name)) throw not_found("dataset " + name + " not found");
    http::Response r;
    r.status = 204;
    return r;
  });
}

}  // namespace rc::portal

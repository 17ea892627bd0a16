// The pages: webui/ as compiled in, or from --webui-dir while working on them. Every path that
// is not /api/ or /auth/ gets index.html (the page script routes), assets come from /static/.
#include "remotecode/portal/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "remotecode/portal/assets.h"
#include "remotecode/portal/router.h"

namespace rc::portal {

namespace {

std::string content_type(const std::string& path) {
  auto ends = [&](const char* s) {
    std::string_view suffix(s);
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  if (ends(".ico")) return "image/x-icon";
  return "text/plain; charset=utf-8";
}

void security_headers(http::Response& r) {
  r.set_header("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("X-Frame-Options", "DENY");
  r.set_header("Referrer-Policy", "same-origin");
}

}  // namespace

StaticFiles::StaticFiles(std::string directory) : directory_(std::move(directory)) {
  if (directory_.empty())
    for (const auto& f : webui_files()) embedded_[f.path] = f.text;
}

std::optional<std::string> StaticFiles::read(const std::string& rel) const {
  if (directory_.empty()) {
    auto it = embedded_.find("webui/" + rel);
    if (it == embedded_.end()) return std::nullopt;
    return std::string(it->second);
  }
  std::ifstream in(std::filesystem::path(directory_) / rel, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<http::Response> StaticFiles::serve(const http::Request& request) const {
  const std::string& path = request.path;
  if (path.rfind("/api/", 0) == 0 || path == "/api" || path.rfind("/auth/", 0) == 0)
    return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD")
    return error_response(405, "method_not_allowed", "pages are read with GET");
  std::string rel = "index.html";
  if (path.rfind("/static/", 0) == 0) {
    rel = path.substr(1);
    // No way out of webui/: no "..", no empty or hidden segments.
    if (rel.find("..") != std::string::npos || rel.find("//") != std::string::npos ||
        rel.find("/.") != std::string::npos)
      return error_response(404, "not_found", "no such file");
  }
  auto body = read(rel);
  if (!body) return error_response(404, "not_found", "no such file");
  auto r = http::Response::text(200, std::move(*body), content_type(rel));
  security_headers(r);
  // Asset paths are not versioned: revalidate, so an upgrade never mixes old and new modules.
  r.set_header("Cache-Control", "no-cache");
  return r;
}

}  // namespace rc::portal

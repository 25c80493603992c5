// GET /ui/: the dashboard (docs/dashboard.md). Its static files come from the binary
// (ui_assets.h); its live figures from GET /ui/data, one small JSON object a second per open page.
#include <fmt/format.h>
#include <sys/statvfs.h>

#include "api/http_errors.h"
#include "api/service.h"
#include "api/ui_assets.h"

namespace nds::api {
namespace {

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// The page runs only its own script and style, loads nothing from elsewhere, and may not be
// framed by another site (clickjacking): docs/dashboard.md "Security".
void AddPageHeaders(net::HttpResponse* r) {
  r->SetHeader("Content-Security-Policy",
               "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  r->SetHeader("X-Content-Type-Options", "nosniff");
  r->SetHeader("Referrer-Policy", "no-referrer");
  r->SetHeader("Cache-Control", "no-cache");
}

}  // namespace

std::string ApiService::UiDataJson() const {
  node::NodeStatus s = node_->GetStatus();
  engine::EngineStats es = node_->engine().Stats();
  uint64_t disk_total = 0;
  uint64_t disk_free = 0;
  struct statvfs fs {};
  if (!options_.data_dir.empty() && ::statvfs(options_.data_dir.c_str(), &fs) == 0) {
    disk_total = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
    disk_free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  std::string status = StatusJson();
  while (!status.empty() && status.back() == '\n') status.pop_back();
  return fmt::format(
      "{{\"status\":{},\"requests_total\":{},\"keys_estimate\":{},\"stored_bytes_estimate\":{},"
      "\"disk_total_bytes\":{},\"disk_free_bytes\":{}}}\n",
      status, metrics_.RequestsTotal(), es.keys_estimate, es.bytes_estimate, disk_total, disk_free);
}

void ApiService::HandleUi(const CallPtr& call, std::string_view path) {
  call->route = Route::kUi;
  if (call->request.method != "GET" && call->request.method != "HEAD") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows GET");
    r.SetHeader("Allow", "GET, HEAD");
    return Finish(call, std::move(r));
  }
  if (path == "/ui") {
    net::HttpResponse r;
    r.status = 301;
    r.SetHeader("Location", "/ui/");
    return Finish(call, std::move(r));
  }
  std::string_view name = path.substr(std::string_view("/ui/").size());
  if (name == "data") {
    net::HttpResponse r;
    r.SetHeader("Content-Type", "application/json");
    r.SetHeader("Cache-Control", "no-store");
    r.body = UiDataJson();
    return Finish(call, std::move(r));
  }
  if (name.empty()) name = "index.html";
  for (const UiAsset& asset : UiAssets()) {
    if (asset.name != name) continue;
    net::HttpResponse r;
    r.SetHeader("Content-Type", std::string(ContentTypeOf(name)));
    AddPageHeaders(&r);
    r.body = std::string(asset.bytes);
    return Finish(call, std::move(r));
  }
  Finish(call, ErrorResponse(404, "not_found",
                             "no dashboard file " + std::string(name) + "; the dashboard is /ui/"));
}

}  // namespace nds::api

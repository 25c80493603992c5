// Prometheus text rendering of the request metrics.
#include "api/metrics.h"

#include <iterator>

#include <fmt/format.h>

namespace nds::api {

std::string_view RouteName(Route r) {
  static constexpr std::string_view kNames[] = {
      "store_get",    "store_head", "store_put",    "store_post",
      "store_delete", "keys",       "set",          "get",
      "rm",           "is",         "clear",        "getKeys",
      "getValues",    "getAll",     "secret_store", "secret_retrieve",
      "role",         "status",     "members",      "members_change",
      "leader",       "healthz",    "readyz",       "metrics",
      "ui",           "txn",        "other"};
  static_assert(std::size(kNames) == static_cast<size_t>(Route::kCount));
  return kNames[static_cast<size_t>(r)];
}

uint64_t Metrics::RequestsTotal() const {
  uint64_t total = 0;
  for (const PerRoute& p : routes_) {
    for (const auto& n : p.by_class) total += n.load(std::memory_order_relaxed);
  }
  return total;
}

void Metrics::Observe(Route route, int http_status, std::chrono::nanoseconds latency) {
  PerRoute& p = routes_[static_cast<size_t>(route)];
  size_t cls = (http_status >= 100 && http_status < 600) ? http_status / 100 : 0;
  p.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  p.latency.Observe(latency);
}

std::string Metrics::Render(std::string_view extra) const {
  std::string out;
  out += "# HELP nds_http_requests_total HTTP requests answered, by route and status class.\n";
  out += "# TYPE nds_http_requests_total counter\n";
  static constexpr std::string_view kClass[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t r = 0; r < routes_.size(); ++r) {
    for (size_t c = 0; c < std::size(kClass); ++c) {
      uint64_t n = routes_[r].by_class[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += fmt::format("nds_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                         RouteName(static_cast<Route>(r)), kClass[c], n);
    }
  }
  out += "# HELP nds_http_request_duration_seconds Time from a complete request to its answer.\n";
  out += "# TYPE nds_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    routes_[r].latency.AppendSamples(&out, "nds_http_request_duration_seconds",
                                     fmt::format("route=\"{}\"", RouteName(static_cast<Route>(r))),
                                     /*skip_empty=*/true);
  }
  out.append(extra);
  return out;
}

}  // namespace nds::api

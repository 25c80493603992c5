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
  double seconds = std::chrono::duration<double>(latency).count();
  size_t b = 0;
  while (b < kBucketBoundsSeconds.size() && seconds > kBucketBoundsSeconds[b]) ++b;
  p.buckets[b].fetch_add(1, std::memory_order_relaxed);
  p.latency_sum_ns.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
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
    const PerRoute& p = routes_[r];
    uint64_t total = 0;
    for (const auto& b : p.buckets) total += b.load(std::memory_order_relaxed);
    if (total == 0) continue;
    std::string_view name = RouteName(static_cast<Route>(r));
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBucketBoundsSeconds.size(); ++b) {
      cumulative += p.buckets[b].load(std::memory_order_relaxed);
      out += fmt::format("nds_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         name, kBucketBoundsSeconds[b], cumulative);
    }
    out += fmt::format("nds_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       name, total);
    out += fmt::format("nds_http_request_duration_seconds_sum{{route=\"{}\"}} {:.9f}\n", name,
                       static_cast<double>(p.latency_sum_ns.load(std::memory_order_relaxed)) / 1e9);
    out += fmt::format("nds_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", name, total);
  }
  out.append(extra);
  return out;
}

}  // namespace nds::api

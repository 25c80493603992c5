// Request counters and latency histograms per route, rendered in the Prometheus text format
// (GET /metrics) together with gauges the caller supplies (keys and bytes stored, indexes).
// Thread-safe: lock-free counters updated from every io thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/latency_histogram.h"

namespace nds::api {

// Every route the API serves, for metric labels.
enum class Route : uint8_t {
  kStoreGet,
  kStoreHead,
  kStorePut,
  kStorePost,
  kStoreDelete,
  kKeys,
  kSet,
  kGet,
  kRm,
  kIs,
  kClear,
  kGetKeys,
  kGetValues,
  kGetAll,
  kSecretStore,
  kSecretRetrieve,
  kRole,
  kStatus,
  kMembers,
  kMembersChange,
  kLeader,
  kHealthz,
  kReadyz,
  kMetrics,
  kUi,
  kTxn,
  kOther,
  kCount,
};

std::string_view RouteName(Route r);

class Metrics {
 public:
  void Observe(Route route, int http_status, std::chrono::nanoseconds latency);
  // Every request answered so far, over all routes (the dashboard's request rate).
  uint64_t RequestsTotal() const;

  // The counters and histograms; `extra` (already in the text format) is appended.
  std::string Render(std::string_view extra) const;

 private:
  struct PerRoute {
    std::array<std::atomic<uint64_t>, 6> by_class{};  // index = http_status / 100 (1..5); 0 other
    LatencyHistogram latency;
  };
  std::array<PerRoute, static_cast<size_t>(Route::kCount)> routes_;
};

}  // namespace nds::api

// A Prometheus histogram of durations: fixed bucket bounds from 100 µs to 5 s, lock-free
// counters, rendered in the Prometheus text format. Used for the HTTP request latencies
// (api/metrics.h) and the Raft loop's fsync and apply times (node/node_metrics.h).
// Thread-safe: Observe and AppendSamples may run on any thread at once.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace nds {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, seconds.
  static constexpr std::array<double, 14> kBucketBoundsSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  void Observe(std::chrono::nanoseconds d);

  // Observations so far.
  uint64_t Count() const;

  // Appends the _bucket, _sum and _count lines of family `name`; `labels` (e.g. `route="get"`,
  // or empty) goes inside every line's braces. Appends nothing when nothing was observed and
  // `skip_empty` is set.
  void AppendSamples(std::string* out, std::string_view name, std::string_view labels,
                     bool skip_empty) const;

 private:
  std::array<std::atomic<uint64_t>, kBucketBoundsSeconds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace nds

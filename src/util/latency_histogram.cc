// Bucketing and Prometheus rendering of LatencyHistogram.
#include "util/latency_histogram.h"

#include <fmt/format.h>

namespace nds {

void LatencyHistogram::Observe(std::chrono::nanoseconds d) {
  const double seconds = std::chrono::duration<double>(d).count();
  size_t b = 0;
  while (b < kBucketBoundsSeconds.size() && seconds > kBucketBoundsSeconds[b]) ++b;
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, d.count())),
                    std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Count() const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  return total;
}

void LatencyHistogram::AppendSamples(std::string* out, std::string_view name,
                                     std::string_view labels, bool skip_empty) const {
  const uint64_t total = Count();
  if (total == 0 && skip_empty) return;
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kBucketBoundsSeconds.size(); ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep,
                        kBucketBoundsSeconds[b], cumulative);
  }
  *out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, total);
  const std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  *out += fmt::format("{}_sum{} {:.9f}\n", name, braces,
                      static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  *out += fmt::format("{}_count{} {}\n", name, braces, total);
}

}  // namespace nds

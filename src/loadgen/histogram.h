// A log-bucketed latency histogram in the manner of HdrHistogram: values below 2^precision_bits
// are counted exactly; above, each power-of-two range is cut into 2^(precision_bits-1) equal
// buckets, so a reported value is never below the true one and exceeds it by less than
// 2^-(precision_bits-1) of it (0.1 % at the default 11 bits). Recording is O(1) with no
// allocation; memory is fixed at construction (about 256 KiB at the defaults).
//
// Not thread-safe: the caller serialises (the load generator keeps one per worker thread and
// merges them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nds::loadgen {

class Histogram {
 public:
  static constexpr int kPrecisionBitsDefault = 11;
  static constexpr uint64_t kValueMaxDefault = uint64_t{1} << 40;  // ~18 minutes in ns

  // Precondition: 2 <= precision_bits <= 20 and value_max >= 2^precision_bits (checked).
  // Values above value_max are recorded as value_max and counted in saturated_count().
  explicit Histogram(int precision_bits = kPrecisionBitsDefault,
                     uint64_t value_max = kValueMaxDefault);

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t count);
  // Adds every count of `other`. Precondition: same precision and value_max (checked).
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t saturated_count() const { return saturated_count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The smallest recorded value v (as the highest value of its bucket, capped at max()) such
  // that at least `percentile` % of the recorded values are <= v. `percentile` is clamped to
  // [0, 100]; 0 gives min(), 100 gives max(); an empty histogram gives 0.
  uint64_t ValueAtPercentile(double percentile) const;

  // Bucket geometry, exposed for tests: the bucket a value falls in and that bucket's range.
  size_t BucketIndex(uint64_t value) const;
  uint64_t BucketLowest(size_t index) const;
  uint64_t BucketHighest(size_t index) const;
  size_t bucket_count() const { return counts_.size(); }

 private:
  const int precision_bits_;
  const uint64_t value_max_;
  std::vector<uint64_t> counts_;  // fixed size, from the constructor
  uint64_t count_ = 0;
  uint64_t saturated_count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;  // for mean(); long double keeps nanosecond sums exact far enough
};

}  // namespace nds::loadgen

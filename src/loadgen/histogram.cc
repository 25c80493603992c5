// Log-bucketed histogram (see histogram.h for the bucket layout and its error bound).
#include "loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "util/check.h"

namespace nds::loadgen {
namespace {

int MostSignificantBit(uint64_t v) { return 63 - std::countl_zero(v); }

}  // namespace

Histogram::Histogram(int precision_bits, uint64_t value_max)
    : precision_bits_(precision_bits), value_max_(value_max) {
  NDS_CHECK(precision_bits >= 2);
  NDS_CHECK(precision_bits <= 20);
  NDS_CHECK(value_max >= (uint64_t{1} << precision_bits));
  counts_.assign(BucketIndex(value_max) + 1, 0);
}

// Layout: [0, 2^p) one bucket per value. Then for each exponent e >= 1, 2^(p-1) buckets of
// width 2^e covering [2^(p-1+e), 2^(p+e)).
size_t Histogram::BucketIndex(uint64_t value) const {
  const uint64_t exact_count = uint64_t{1} << precision_bits_;
  if (value < exact_count) return static_cast<size_t>(value);
  const int exponent = MostSignificantBit(value) - precision_bits_ + 1;  // >= 1
  const uint64_t half = exact_count >> 1;
  const uint64_t mantissa = value >> exponent;  // in [half, exact_count)
  return static_cast<size_t>(exact_count + (exponent - 1) * half + (mantissa - half));
}

uint64_t Histogram::BucketLowest(size_t index) const {
  const uint64_t exact_count = uint64_t{1} << precision_bits_;
  if (index < exact_count) return index;
  const uint64_t half = exact_count >> 1;
  const uint64_t exponent = (index - exact_count) / half + 1;
  const uint64_t mantissa = half + (index - exact_count) % half;
  return mantissa << exponent;
}

uint64_t Histogram::BucketHighest(size_t index) const {
  const uint64_t exact_count = uint64_t{1} << precision_bits_;
  if (index < exact_count) return index;
  const uint64_t half = exact_count >> 1;
  const uint64_t exponent = (index - exact_count) / half + 1;
  return BucketLowest(index) + (uint64_t{1} << exponent) - 1;
}

void Histogram::RecordN(uint64_t value, uint64_t count) {
  if (count == 0) return;
  if (value > value_max_) {
    value = value_max_;
    saturated_count_ += count;
  }
  counts_[BucketIndex(value)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * count;
}

void Histogram::Merge(const Histogram& other) {
  NDS_CHECK(other.precision_bits_ == precision_bits_);
  NDS_CHECK(other.value_max_ == value_max_);
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  saturated_count_ += other.saturated_count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  saturated_count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t Histogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  if (percentile == 0.0) return min();
  // The rank of the value asked for, 1-based: ceil(p/100 * count), at least 1. The small
  // tolerance keeps 0.1 % of 1000 at rank 1 despite 0.1 not being exact in binary.
  const auto wanted = static_cast<uint64_t>(
      std::max(1.0L, std::ceil(static_cast<long double>(percentile) / 100.0L * count_ - 1e-9L)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(BucketHighest(i), max_);
  }
  return max_;
}

}  // namespace nds::loadgen

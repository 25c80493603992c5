// Goal: the histogram's percentiles are within its stated error bound of the exact answer.
// Method: record random data (several distributions), compare every reported percentile with the
// value of the same rank in a sorted copy; check the bucket geometry (contiguous, bounded width)
// on random values; check merge, reset and saturation against direct recording.
#include "loadgen/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace nds::loadgen {
namespace {

uint64_t ReferencePercentile(const std::vector<uint64_t>& sorted, double percentile) {
  const auto rank = static_cast<size_t>(std::max(
      1.0L, std::ceil(static_cast<long double>(percentile) / 100.0L * sorted.size() - 1e-9L)));
  return sorted[rank - 1];
}

void ExpectPercentilesWithinBound(const std::vector<uint64_t>& values, int precision_bits) {
  Histogram h(precision_bits);
  for (const uint64_t v : values) h.Record(v);
  std::vector<uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double relative_error = std::ldexp(1.0, -(precision_bits - 1));
  for (const double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const uint64_t exact = p == 0.0 ? sorted.front() : ReferencePercentile(sorted, p);
    const uint64_t got = h.ValueAtPercentile(p);
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + relative_error))
        << "p" << p;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
}

TEST(Histogram, PercentilesOfUniformDataAreWithinTheErrorBound) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values(100'000);
  for (auto& v : values) v = rng() % 50'000'000;
  ExpectPercentilesWithinBound(values, Histogram::kPrecisionBitsDefault);
  ExpectPercentilesWithinBound(values, 5);
}

TEST(Histogram, PercentilesOfLongTailedDataAreWithinTheErrorBound) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> latency(12.0, 1.5);  // ~160 us median, long tail
  std::vector<uint64_t> values(100'000);
  for (auto& v : values) v = static_cast<uint64_t>(latency(rng));
  ExpectPercentilesWithinBound(values, Histogram::kPrecisionBitsDefault);
  ExpectPercentilesWithinBound(values, 7);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 1000; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 499u);
  EXPECT_EQ(h.ValueAtPercentile(100), 999u);
  EXPECT_EQ(h.ValueAtPercentile(0.1), 0u);
  EXPECT_DOUBLE_EQ(h.mean(), 499.5);
}

TEST(Histogram, BucketsAreContiguousAndNarrowRelativeToTheirValues) {
  const Histogram h(8, uint64_t{1} << 30);
  for (size_t i = 0; i + 1 < h.bucket_count(); ++i) {
    ASSERT_EQ(h.BucketHighest(i) + 1, h.BucketLowest(i + 1)) << i;
    ASSERT_EQ(h.BucketIndex(h.BucketLowest(i)), i);
    ASSERT_EQ(h.BucketIndex(h.BucketHighest(i)), i);
    const uint64_t width = h.BucketHighest(i) - h.BucketLowest(i) + 1;
    ASSERT_LE(static_cast<double>(width - 1),
              static_cast<double>(h.BucketLowest(i)) * std::ldexp(1.0, -7))
        << i;
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10'000; ++i) {
    const uint64_t v = rng() >> (34 + rng() % 30);  // spread over many magnitudes, < 2^30
    const size_t b = h.BucketIndex(v);
    ASSERT_LE(h.BucketLowest(b), v);
    ASSERT_GE(h.BucketHighest(b), v);
  }
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(4);
  Histogram a, b, all;
  for (int i = 0; i < 10'000; ++i) {
    const uint64_t v = rng() % 10'000'000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (const double p : {1.0, 50.0, 99.0, 99.9}) {
    EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.ValueAtPercentile(50), 0u);
  EXPECT_EQ(a.min(), 0u);
}

TEST(Histogram, ValuesAboveTheMaximumSaturateAndAreCounted) {
  Histogram h(11, uint64_t{1} << 20);
  h.Record(5);
  h.RecordN(uint64_t{1} << 40, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.saturated_count(), 3u);
  EXPECT_EQ(h.max(), uint64_t{1} << 20);
  EXPECT_EQ(h.ValueAtPercentile(100), uint64_t{1} << 20);
}

}  // namespace
}  // namespace nds::loadgen

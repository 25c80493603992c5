// Goal: RandomBytes fills the whole buffer with fresh bytes. Method: fill zeroed buffers and check
// that their ends are no longer zero and that two draws differ (each check fails by chance with
// probability 2^-256 at most); no statistical tests, which belong to OpenSSL's own suite.
#include "crypto/random.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace nds::crypto {
namespace {

bool AllZero(std::span<const uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

TEST(RandomBytes, FillsTheWholeBuffer) {
  std::vector<uint8_t> buf(4096, 0);
  ASSERT_TRUE(RandomBytes(buf).ok());
  EXPECT_FALSE(AllZero(std::span(buf).first(32)));
  EXPECT_FALSE(AllZero(std::span(buf).last(32)));
}

TEST(RandomBytes, TwoDrawsDiffer) {
  std::vector<uint8_t> a(32), b(32);
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
}

TEST(RandomBytes, EmptyBufferSucceeds) { EXPECT_TRUE(RandomBytes({}).ok()); }

}  // namespace
}  // namespace nds::crypto

// Goal: the key-handling helpers do what secure.h promises: constant-time comparison gives the
// right answers, wiping zeroes the bytes, and SecretBytes leaves nothing behind in a moved-from or
// wiped object. Method: direct unit tests (that freed memory is wiped cannot be observed without
// undefined behaviour, so the tests check the observable half: the state after move and Wipe).
#include "crypto/secure.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nds::crypto {
namespace {

TEST(ConstantTimeEquals, EqualBytesAreEqual) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("abc\0def", 7), std::string_view("abc\0def", 7)));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(), std::string_view()));
}

TEST(ConstantTimeEquals, AnyDifferenceOrLengthMismatchIsUnequal) {
  const std::string a = "0123456789abcdef";
  for (size_t i = 0; i < a.size(); ++i) {
    std::string b = a;
    b[i] ^= 1;
    EXPECT_FALSE(ConstantTimeEquals(a, b)) << "difference at " << i;
  }
  EXPECT_FALSE(ConstantTimeEquals(a, a.substr(0, 15)));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view(), std::string_view("x")));
}

TEST(SecureWipe, ZeroesASpan) {
  std::vector<uint8_t> bytes = {1, 2, 3, 4, 5};
  SecureWipe(bytes);
  EXPECT_EQ(bytes, std::vector<uint8_t>(5, 0));
}

TEST(SecureWipe, ZeroesAndClearsAString) {
  std::string s(40, 'k');
  const char* data = s.data();
  SecureWipe(s);
  EXPECT_TRUE(s.empty());
  // clear() keeps the buffer, so the wiped bytes can still be inspected through it.
  EXPECT_EQ(s.data(), data);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(data[i], '\0') << i;
}

TEST(SecretBytes, StartsZeroedAtItsSize) {
  SecretBytes s(32);
  ASSERT_EQ(s.size(), 32u);
  for (uint8_t b : s.span()) EXPECT_EQ(b, 0);
  EXPECT_TRUE(SecretBytes().empty());
  EXPECT_EQ(SecretBytes().data(), nullptr);
}

TEST(SecretBytes, CopyOfHoldsTheBytes) {
  const std::vector<uint8_t> src = {9, 8, 7};
  SecretBytes s = SecretBytes::CopyOf(src);
  EXPECT_EQ(std::vector<uint8_t>(s.span().begin(), s.span().end()), src);
}

TEST(SecretBytes, MovedFromIsEmptyAndTheTargetHasTheBytes) {
  SecretBytes a = SecretBytes::CopyOf(std::vector<uint8_t>{1, 2, 3});
  const uint8_t* buffer = a.data();
  SecretBytes b(std::move(a));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the state after a move is the test
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), buffer);
  EXPECT_EQ(b.size(), 3u);

  SecretBytes c(8);
  c = std::move(b);
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(c.data(), buffer);
  EXPECT_EQ(c.span()[2], 3);
}

TEST(SecretBytes, SelfMoveAssignmentKeepsTheBytes) {
  SecretBytes a = SecretBytes::CopyOf(std::vector<uint8_t>{4, 5});
  SecretBytes& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a.span()[1], 5);
}

TEST(SecretBytes, WipeEmptiesIt) {
  SecretBytes a = SecretBytes::CopyOf(std::vector<uint8_t>{4, 5});
  a.Wipe();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.data(), nullptr);
}

}  // namespace
}  // namespace nds::crypto

// Goal: Sha256 gives the FIPS 180-2 digests, also when called many times and from several threads
// (it reuses one fetched digest and a context per thread). Method: known vectors; threads that
// each hash many inputs and compare with the first thread's answers.
#include "crypto/sha256.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

using testing::ToHex;

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ToHex(Sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, RepeatedAndConcurrentCallsAgree) {
  std::vector<std::string> expected;
  expected.reserve(200);
  for (int i = 0; i < 200; ++i) expected.push_back(Sha256("input " + std::to_string(i)));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 200; ++i) {
          if (Sha256("input " + std::to_string(i)) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace nds::crypto

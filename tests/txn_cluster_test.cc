// Goal: POST /txn is atomic across a real cluster: compare-and-swap increments sent at once
// through every node (followers forward them) never lose an update, and `nds txn` runs a
// transaction from a file with exit 0 when it succeeded and 3 when its compares failed.
// Method: FastClusterTest (launcher::LocalCluster) of 3 `nds start` processes on 127.0.0.1; one
// thread per node with its own nds::Client doing read, then txn(compare revision, put value + 1),
// retrying on a failed compare; the final counter must equal the number of successful transactions.
// Bounded in attempts and time.
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/local_cluster.h"

namespace nds::test {
namespace {

using std::chrono::seconds;

class TxnClusterTest : public FastClusterTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartCluster(3)); }
};

TEST_F(TxnClusterTest, ConcurrentCompareAndSwapFromEveryNodeLosesNoIncrement) {
  ASSERT_TRUE(ClientFor(cluster_->node(0).api_address())->Put("counter", "0").ok());
  constexpr int kIncrementsPerNode = 30;
  std::atomic<int> committed{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (size_t n = 0; n < 3; ++n) {
    threads.emplace_back([&, n] {
      auto c = ClientFor(cluster_->node(n).api_address());
      const auto deadline = std::chrono::steady_clock::now() + seconds(60);
      int done = 0;
      while (done < kIncrementsPerNode && std::chrono::steady_clock::now() < deadline) {
        auto blob = c->Get("counter");
        if (!blob.ok()) {
          ++errors;
          continue;
        }
        const int value = std::stoi(blob->value);
        client::TxnRequest t;
        t.compare = {client::TxnCompare::RevisionIs("counter", blob->revision)};
        t.success = {client::TxnOp::Put("counter", std::to_string(value + 1))};
        auto r = c->Txn(t);
        if (!r.ok()) {
          ++errors;
        } else if (r->succeeded) {
          ++done;
          ++committed;
        } else {
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(committed.load(), 3 * kIncrementsPerNode);
  auto final_value = ClientFor(cluster_->node(1).api_address())->Get("counter");
  ASSERT_TRUE(final_value.ok());
  EXPECT_EQ(final_value->value, std::to_string(committed.load()));
  std::printf("txn CAS: %d committed, %d lost a compare\n", committed.load(), conflicts.load());
}

TEST_F(TxnClusterTest, TheCliRunsATransactionFromAFileAndSaysWhetherItSucceeded) {
  const std::string file = dir_ + "/txn.json";
  std::ofstream(file) << R"({"compare": [{"key": "cfg/mode", "exists": false}],
      "success": [{"put": {"key": "cfg/mode", "value": "blue"}}],
      "failure": [{"get": {"key": "cfg/mode"}}]})";
  const std::string cmd =
      std::string(NDS_BINARY) + " txn --server " + cluster_->node(2).api_address() + " " + file;
  Output first = RunBounded(cmd, 30);
  EXPECT_EQ(first.exit_code, 0) << first.text;
  EXPECT_NE(first.text.find("\"succeeded\":true"), std::string::npos) << first.text;
  Output second = RunBounded(cmd, 30);
  EXPECT_EQ(second.exit_code, 5) << second.text;
  EXPECT_NE(second.text.find("\"value\":\"blue\""), std::string::npos) << second.text;
  Output bad = RunBounded("echo '{\"compare\": 5}' | " + std::string(NDS_BINARY) +
                              " txn --server " + cluster_->node(0).api_address() + " -",
                          30);
  EXPECT_EQ(bad.exit_code, 1) << bad.text;
  EXPECT_NE(bad.text.find("must be a list"), std::string::npos) << bad.text;
}

}  // namespace
}  // namespace nds::test

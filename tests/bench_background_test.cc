// Goal: `nds bench --hold-watchers` and `--keep-leases` against a real node hold their background
// load through the measured phase and report what it did: every held watcher of the puts' prefix
// receives every acknowledged put exactly once, watchers of one key each receive the puts of
// their key only, watchers of another prefix receive none, every
// lease is granted, kept alive without failure (one request per lease, or per group with
// --keepalive-batch) and revoked at the end; bad background flags exit 2 and an unreachable
// background server exits 1, naming it.
// Method: one `nds start` process on 127.0.0.1; the `nds` binary runs the bench with --json; the
// report's counts are compared with its own put count. Runs are bounded by -d.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/nds_process.h"
#include "harness/raw_http.h"
#include "harness/run_nds.h"

namespace nds::test {
namespace {

class BenchBackgroundTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = new NdsProcess(MakeTempDir("bench_background"));
    ASSERT_TRUE(node_->Start()) << node_->error;
    // Serving is not yet leading: wait (bounded) until the lone node answers goose, so that the
    // grants of the first run are not refused.
    RawHttp http(node_->port());
    for (int i = 0; i < 500 && http.Request("GET", "/role").body != "goose"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  static void TearDownTestSuite() {
    node_->Stop(SIGTERM);
    delete node_;
    node_ = nullptr;
  }

  // Runs `nds bench ARGS --json` against the node; the report, or null after a failure.
  static nlohmann::json Bench(const std::string& args) {
    const CommandResult r =
        RunNds("bench --server " + node_->address() + " --no-progress --json " + args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const size_t start = r.output.find('{');
    if (r.exit_code != 0 || start == std::string::npos) return nullptr;
    const size_t end = r.output.find('\n', start);
    return nlohmann::json::parse(r.output.substr(start, end - start), nullptr, false);
  }

  static NdsProcess* node_;
};

NdsProcess* BenchBackgroundTest::node_ = nullptr;

TEST_F(BenchBackgroundTest, HeldWatchersOfThePutPrefixReceiveEveryPutOnce) {
  const nlohmann::json j =
      Bench("-w put -d 1s -c 2 --key-prefix w1/ --hold-watchers 3 --keep-leases 0");
  ASSERT_TRUE(j.is_object());
  const uint64_t puts = j["writes_ok"].get<uint64_t>();
  ASSERT_GT(puts, 0u);
  const nlohmann::json& w = j["background"]["watchers"];
  EXPECT_EQ(w["opened"], 3);
  EXPECT_EQ(w["prefix"], "w1/");
  EXPECT_EQ(w["events"].get<uint64_t>(), 3 * puts);
  EXPECT_EQ(w["caught_up"], 3);
  EXPECT_EQ(w["ended_early"], 0);
  EXPECT_EQ(w["error_lines"], 0);
  EXPECT_EQ(j["background"]["leases"]["granted"], 0);
}

TEST_F(BenchBackgroundTest, WatchersOfOneKeyEachReceiveThePutsOfTheirKeyOnly) {
  // Three keys, a watcher on each: every put reaches exactly one watcher.
  const nlohmann::json j =
      Bench("-w put -d 1s -c 2 --keys 3 --key-prefix w4/ --hold-watchers 3 --watch-each-key");
  ASSERT_TRUE(j.is_object());
  const uint64_t puts = j["writes_ok"].get<uint64_t>();
  ASSERT_GT(puts, 0u);
  const nlohmann::json& w = j["background"]["watchers"];
  EXPECT_EQ(w["opened"], 3);
  EXPECT_EQ(w["each_key"], true);
  EXPECT_TRUE(w["prefix"].is_null());
  EXPECT_EQ(w["events"].get<uint64_t>(), puts);
  EXPECT_EQ(w["caught_up"], 3);
  EXPECT_EQ(w["ended_early"], 0);
}

TEST_F(BenchBackgroundTest, HeldWatchersOfAnotherPrefixReceiveNoPut) {
  const nlohmann::json j =
      Bench("-w put -d 1s -c 2 --key-prefix w2/ --hold-watchers 2 --watch-prefix elsewhere/");
  ASSERT_TRUE(j.is_object());
  ASSERT_GT(j["writes_ok"].get<uint64_t>(), 0u);
  const nlohmann::json& w = j["background"]["watchers"];
  EXPECT_EQ(w["opened"], 2);
  EXPECT_EQ(w["events"], 0);
  EXPECT_GE(w["progress_lines"].get<uint64_t>(), 2u);  // each stream's first line at least
  EXPECT_EQ(w["caught_up"], 2);  // a progress line told each it had seen the last put
}

TEST_F(BenchBackgroundTest, KeptLeasesAreGrantedKeptAliveAndRevoked) {
  const nlohmann::json j = Bench(
      "-w put -d 2s -c 2 --key-prefix l/ --keep-leases 20 --lease-connections 4 "
      "--keepalive-interval 200ms --lease-ttl 5s");
  ASSERT_TRUE(j.is_object());
  ASSERT_GT(j["writes_ok"].get<uint64_t>(), 0u);
  const nlohmann::json& l = j["background"]["leases"];
  EXPECT_EQ(l["granted"], 20);
  EXPECT_EQ(l["connections"], 4);
  EXPECT_GT(l["keepalives_sent"].get<uint64_t>(), 0u);
  EXPECT_EQ(l["keepalives_ok"], l["keepalives_sent"]);
  EXPECT_EQ(l["keepalives_failed"], 0);
  EXPECT_EQ(l["revoked"], 20);
  EXPECT_EQ(j["background"]["watchers"]["opened"], 0);
}

TEST_F(BenchBackgroundTest, KeptLeasesAreKeptAliveInGroupsWithKeepaliveBatch) {
  // 10 leases per connection in groups of 4, 4 and 2: each group one POST /leases/keepalive,
  // every lease of it counted.
  const nlohmann::json j = Bench(
      "-w put -d 1s -c 1 --key-prefix lb/ --keep-leases 20 --lease-connections 2 "
      "--keepalive-interval 200ms --lease-ttl 5s --keepalive-batch 4");
  ASSERT_TRUE(j.is_object());
  const nlohmann::json& l = j["background"]["leases"];
  EXPECT_EQ(l["granted"], 20);
  EXPECT_EQ(l["keepalive_batch"], 4);
  EXPECT_GE(l["keepalives_sent"].get<uint64_t>(), 20u);  // a whole round at least
  EXPECT_EQ(l["keepalives_ok"], l["keepalives_sent"]);
  EXPECT_EQ(l["keepalives_failed"], 0);
  EXPECT_EQ(l["first_error"], "");
  EXPECT_EQ(l["revoked"], 20);
}

TEST_F(BenchBackgroundTest, BadBackgroundFlagsAreUsageErrors) {
  CommandResult r = RunNds("bench --server " + node_->address() + " -d 1s --hold-watchers 10001");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--hold-watchers"), std::string::npos) << r.output;
  r = RunNds("bench --server " + node_->address() + " -d 1s --keep-leases 4 --lease-ttl 0.1s");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--lease-ttl"), std::string::npos) << r.output;
}

TEST_F(BenchBackgroundTest, AnUnreachableBackgroundServerFailsBeforeMeasuring) {
  const std::string closed = "127.0.0.1:" + std::to_string(FreePort());
  const CommandResult r =
      RunNds("bench --server " + node_->address() + " -d 1s --hold-watchers 2 --reconnects 1 " +
             "--connect-timeout 1 --background-server " + closed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("background load on " + closed), std::string::npos) << r.output;
}

}  // namespace
}  // namespace nds::test

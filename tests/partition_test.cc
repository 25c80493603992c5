// Goal: a network partition never yields two geese. A leader cut off from the majority stops
// answering goose within its lease and its writes get 503, while the majority elects a new goose
// and takes writes; once the partition heals, the old leader is a duck and has every write.
// Method: as root, each node runs in its own network namespace joined to a bridge
// (launcher/netns.h); the test cuts one node off from the others with blackhole routes, and talks
// to every node from a thread that entered that node's namespace. Skipped when namespaces cannot
// be made. Every wait is bounded.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"
#include "launcher/child_process.h"
#include "launcher/netns.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kNodes = 3;
constexpr uint16_t kApiPort = 7777;

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir("partition");
    auto net = launcher::NetnsNetwork::Create(base_ + "/netns.log");
    if (!net.ok()) GTEST_SKIP() << "needs root and network namespaces: " << net.status().ToString();
    net_ = std::move(*net);
    for (int i = 1; i <= kNodes; ++i) ASSERT_TRUE(net_->AddNode(i).ok());
  }
  void TearDown() override {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      launcher::WaitExit(pid, std::chrono::seconds(10));
    }
    pids_.clear();
    net_.reset();
    if (!base_.empty()) std::filesystem::remove_all(base_);
  }

  void StartNode(int i) {
    std::string dir = base_ + "/n" + std::to_string(i);
    std::vector<std::string> argv = net_->ExecPrefix(i);
    argv.insert(argv.end(),
                {NDS_BINARY, "start", "--name", "n" + std::to_string(i), "--api", "0.0.0.0:7777",
                 "--peer", "0.0.0.0:7778", "--advertise-api", net_->Ip(i) + ":7777",
                 "--advertise-peer", net_->Ip(i) + ":7778", "--data", dir, "--token",
                 "partition-test-token", "--request-timeout-ms", "1500"});
    if (i > 1) {
      argv.push_back("--join");
      argv.push_back(net_->Ip(1) + ":7777");
    }
    auto pid = launcher::SpawnLogged(argv, dir + ".log");
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    pids_.push_back(*pid);
    ASSERT_TRUE(WaitUntil(i, "/readyz", 200, milliseconds(30'000)))
        << "n" << i << " not ready: " << launcher::FileTail(dir + ".log", 2000);
  }

  HttpAnswer Ask(int i, const std::string& method, const std::string& target,
                 const std::string& body = {}) {
    HttpAnswer a;
    EXPECT_TRUE(net_->RunIn(i,
                            [&] {
                              RawHttp http(kApiPort, milliseconds(5'000));
                              a = http.Request(method, target, body);
                            })
                    .ok());
    return a;
  }

  bool WaitUntil(int i, const std::string& target, int status, milliseconds limit) {
    auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      if (Ask(i, "GET", target).status == status) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  std::string Role(int i) {
    HttpAnswer a;
    EXPECT_TRUE(net_->RunIn(i,
                            [&] {
                              RawHttp http(kApiPort, milliseconds(500));
                              a = http.Request("GET", "/role");
                            })
                    .ok());
    return a.body;
  }

  std::unique_ptr<launcher::NetnsNetwork> net_;
  std::string base_;
  std::vector<pid_t> pids_;
};

TEST_F(PartitionTest, ACutOffLeaderStopsBeingGooseAndTheMajorityGoesOn) {
  for (int i = 1; i <= kNodes; ++i) StartNode(i);
  ASSERT_FALSE(HasFatalFailure());
  // Wait until every node is a voter.
  auto end = Clock::now() + milliseconds(30'000);
  size_t voters = 0;
  while (Clock::now() < end && voters != kNodes) {
    std::string members = Ask(1, "GET", "/cluster/members").body;
    voters = 0;
    for (size_t p = members.find("\"voter\":true"); p != std::string::npos;
         p = members.find("\"voter\":true", p + 1)) {
      ++voters;
    }
    if (voters != kNodes) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(voters, static_cast<size_t>(kNodes));

  int old_leader = 0;
  for (int attempt = 0; attempt < 100 && old_leader == 0; ++attempt) {
    for (int i = 1; i <= kNodes; ++i) {
      if (Role(i) == "goose") old_leader = i;
    }
    if (old_leader == 0) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_NE(old_leader, 0);
  ASSERT_EQ(Ask(old_leader, "PUT", "/store/before", "1").status, 201);

  ASSERT_TRUE(net_->Isolate(old_leader).ok());
  const auto cut_at = Clock::now();
  // Poll every node until the majority has a new goose; never two at once, and the cut-off
  // leader is a duck once its lease (350 ms by default) plus a tick has passed.
  int new_leader = 0;
  while (Clock::now() - cut_at < milliseconds(10'000)) {
    std::vector<int> geese;
    for (int i = 1; i <= kNodes; ++i) {
      if (Role(i) == "goose") geese.push_back(i);
    }
    ASSERT_LE(geese.size(), 1u) << "two geese during the partition";
    bool old_is_goose = !geese.empty() && geese[0] == old_leader;
    if (Clock::now() - cut_at > milliseconds(1'000)) {
      ASSERT_FALSE(old_is_goose) << "the cut-off leader still answers goose after 1 s";
    }
    if (!geese.empty() && !old_is_goose) {
      new_leader = geese[0];
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_NE(new_leader, 0) << "the majority elected no goose within 10 s";
  EXPECT_EQ(Role(old_leader), "duck");

  // The cut-off node cannot commit: 503 (after --request-timeout-ms). The majority can.
  HttpAnswer minority = Ask(old_leader, "PUT", "/store/minority", "x");
  EXPECT_EQ(minority.status, 503) << minority.body;
  EXPECT_EQ(Ask(new_leader, "PUT", "/store/majority", "2").status, 201);
  int other = 6 - old_leader - new_leader;
  EXPECT_EQ(Ask(other, "GET", "/store/majority").body, "2");

  // Heal: the old leader follows the new one and serves everything the majority wrote.
  ASSERT_TRUE(net_->HealAll().ok());
  std::string got;
  for (int attempt = 0; attempt < 100 && got != "2"; ++attempt) {
    got = Ask(old_leader, "GET", "/store/majority").body;
    if (got != "2") std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(got, "2");
  EXPECT_EQ(Role(old_leader), "duck");
  EXPECT_EQ(Ask(old_leader, "GET", "/store/before").body, "1");
}

}  // namespace
}  // namespace nds::test

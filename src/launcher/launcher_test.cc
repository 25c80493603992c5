// Goal: NodeProcess starts a real `nds start`, reports why a node does not come up, stops it with
// each signal and restarts it on the same data, and picks new ports when its picked ones were
// taken.
// Method: the built binary (NDS_BINARY) on 127.0.0.1 with fresh temporary data directories; one
// node only (cluster behaviour is tests/cluster_test.cc's).
#include <chrono>
#include <filesystem>
#include <signal.h>
#include <stdlib.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "launcher/local_cluster.h"
#include "launcher/node_process.h"
#include "net/loopback_port.h"

namespace nds::launcher {
namespace {

// Every test's directories live under one directory, removed when the whole run passed.
class TempRoot : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nds-launcher-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!::testing::UnitTest::GetInstance()->Failed()) std::filesystem::remove_all(path_, ignored);
  }
  static inline std::string path_;
};
const auto* const kTempRoot = ::testing::AddGlobalTestEnvironment(new TempRoot);

// A new directory for one test, under TempRoot's.
std::string TempDir(const std::string& tag) {
  static int made = 0;
  std::string dir = TempRoot::path_ + "/" + tag + "-" + std::to_string(++made);
  std::filesystem::create_directories(dir);
  return dir;
}

NodeSpec OneNode(const std::string& dir) {
  NodeSpec spec;
  spec.binary = NDS_BINARY;
  spec.name = "node1";
  spec.data_dir = dir + "/node1";
  spec.token = "launcher-test-token";
  return spec;
}

TEST(NodeProcess, APickedPortTakenBeforeTheFirstStartIsPickedAgain) {
  NodeProcess node(OneNode(TempDir("launcher-port")));
  const uint16_t picked = node.spec().api_port;
  ASSERT_NE(picked, 0);
  ASSERT_TRUE(net::PortFree(picked));
  int squatter = net::ListenLoopback(picked);  // another process took it meanwhile
  ASSERT_GE(squatter, 0);
  Status s = node.Start();
  close(squatter);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << node.LogTail();
  EXPECT_NE(node.spec().api_port, picked);
  EXPECT_FALSE(net::PortFree(node.spec().api_port)) << "the node listens on its new port";
}

TEST(NodeProcess, APortGivenByTheCallerIsNeverChanged) {
  NodeSpec spec = OneNode(TempDir("launcher-given-port"));
  spec.api_port = net::FreePort();
  int squatter = net::ListenLoopback(spec.api_port);
  ASSERT_GE(squatter, 0);
  NodeProcess node(spec);
  Status s = node.Start();
  close(squatter);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(node.spec().api_port, spec.api_port);
}

TEST(NodeProcess, StartsServesStopsWithSigtermAndRestartsOnTheSameData) {
  NodeProcess node(OneNode(TempDir("launcher-restart")));
  ASSERT_TRUE(node.Start().ok()) << node.LogTail();
  EXPECT_TRUE(node.Running());
  EXPECT_FALSE(node.Start().ok()) << "a second Start while it runs must be refused";
  auto set = node.Get("/set?k=a&v=1");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->status, 200);

  auto stopped = node.Stop(SIGTERM);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << node.LogTail();
  EXPECT_FALSE(node.Running());
  EXPECT_FALSE(node.Get("/healthz", std::chrono::milliseconds(500)).ok());

  ASSERT_TRUE(node.Start().ok()) << node.LogTail();
  auto got = node.Get("/get?k=a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "1");
}

TEST(NodeProcess, SigkillIsReportedAsSignalNine) {
  NodeProcess node(OneNode(TempDir("launcher-kill")));
  ASSERT_TRUE(node.Start().ok()) << node.LogTail();
  auto stopped = node.Stop(SIGKILL);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 128 + SIGKILL);
  EXPECT_FALSE(node.Stop(SIGTERM).ok()) << "stopping a stopped node is an error";
}

TEST(NodeProcess, APausedNodeDoesNotAnswerUntilResumedAndCanBeStoppedWhilePaused) {
  NodeProcess node(OneNode(TempDir("launcher-pause")));
  ASSERT_TRUE(node.Start().ok()) << node.LogTail();
  node.Signal(SIGSTOP);
  EXPECT_TRUE(node.paused());
  EXPECT_FALSE(node.Get("/healthz", std::chrono::milliseconds(300)).ok());
  node.Signal(SIGCONT);
  EXPECT_FALSE(node.paused());
  EXPECT_TRUE(node.WaitFor200("/healthz", std::chrono::seconds(10)).ok());
  node.Signal(SIGSTOP);
  auto stopped = node.Stop(SIGTERM);  // Stop also resumes it, so that it sees SIGTERM
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << node.LogTail();
}

TEST(NodeProcess, ANodeThatExitsAtStartUpIsReportedWithItsLog) {
  NodeSpec spec = OneNode(TempDir("launcher-bad"));
  spec.extra_args = {"--engine", "no-such-engine"};
  NodeProcess node(spec);
  Status s = node.Start(std::chrono::seconds(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("node1"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(spec.data_dir + ".log"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line: " << s.ToString();
  EXPECT_FALSE(node.Running());
}

TEST(NodeProcess, APortTakenByAnotherProcessIsNamedBeforeSpawning) {
  NodeProcess first(OneNode(TempDir("launcher-taken1")));
  ASSERT_TRUE(first.Start().ok()) << first.LogTail();
  NodeSpec spec = OneNode(TempDir("launcher-taken2"));
  spec.api_port = first.spec().api_port;
  NodeProcess second(spec);
  Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(spec.api_port)), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.ToString();
  EXPECT_EQ(second.pid(), -1);
}

TEST(LocalCluster, OneNodeClusterBootstrapsIsReadyAndRestartsFromItsDataDirectory) {
  LocalClusterOptions options;
  options.binary = NDS_BINARY;
  options.base_dir = TempDir("launcher-cluster");
  options.nodes = 1;
  LocalCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.node(0).LogTail();
  EXPECT_TRUE(std::filesystem::exists(options.base_dir + "/node1"));
  auto set = cluster.node(0).Get("/set?k=a&v=kept");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->status, 200);
  cluster.StopAll();
  EXPECT_FALSE(cluster.node(0).Running());

  LocalCluster again(options);  // the same directory: a restart, not a bootstrap
  ASSERT_TRUE(again.Start().ok()) << again.node(0).LogTail();
  auto got = again.node(0).Get("/get?k=a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "kept");
  EXPECT_EQ(again.ServerList(), again.node(0).api_address());
}

}  // namespace
}  // namespace nds::launcher

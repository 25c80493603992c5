// Goal: `nds demo` starts a cluster, says how to reach it, stops it on SIGTERM, restarts it from
// its data, and names a port that is in use (docs/cli.md).
// Method: the built `nds demo` as a child process on free loopback ports, its output read back;
// every wait is bounded in time.
#include <chrono>
#include <filesystem>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "launcher/child_process.h"
#include "net/loopback_port.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A running `nds demo`: SIGTERM (its clean stop) when the test ends, SIGKILL if that does not
// end it, so that no node outlives the test.
class DemoProcess {
 public:
  DemoProcess(const std::string& data, uint16_t api_port, size_t nodes) : out_path_(data + ".out") {
    std::error_code ignored;
    std::filesystem::remove(out_path_, ignored);  // only this run's output
    auto pid = launcher::SpawnLogged({NDS_BINARY, "demo", "--data", data, "--api-port",
                                      std::to_string(api_port), "--nodes", std::to_string(nodes)},
                                     out_path_);
    EXPECT_TRUE(pid.ok()) << pid.status().ToString();
    if (pid.ok()) pid_ = *pid;
  }
  ~DemoProcess() {
    if (pid_ > 0 && !Stop().has_value()) {
      kill(pid_, SIGKILL);  // its nodes are left running then; the test has failed already
      launcher::WaitExit(pid_, seconds(10));
    }
  }
  // SIGTERM and its exit status, or std::nullopt when it did not exit within 30 s.
  std::optional<int> Stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    exit_status_ = launcher::WaitExit(pid_, seconds(30));
    if (exit_status_) pid_ = -1;
    return exit_status_;
  }
  // Waits until the output holds `text` (true), or the demo exits or 90 s pass (false).
  bool WaitForOutput(const std::string& text) {
    auto deadline = Clock::now() + seconds(90);
    while (Clock::now() < deadline) {
      if (Output().find(text) != std::string::npos) return true;
      if (pid_ > 0) {
        exit_status_ = launcher::WaitExit(pid_, milliseconds(0));
        if (exit_status_) pid_ = -1;
      }
      if (pid_ <= 0) return Output().find(text) != std::string::npos;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  std::string Output() const { return launcher::FileTail(out_path_, 1 << 16); }
  std::optional<int> exit_status() const { return exit_status_; }

 private:
  std::string out_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// A temporary directory, removed at the end of a test that passed (kept for a look otherwise).
// Declare it before whatever runs in it, so that those stop first.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) : path_(MakeTempDir(tag)) {}
  ~ScratchDir() {
    std::error_code ignored;
    if (!::testing::Test::HasFailure() && !path_.empty())
      std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A base port P such that P + 10*i and P + 10*i + 1 are free for the demo's `nodes` nodes.
uint16_t FreeDemoPorts(size_t nodes) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t base = net::FreePort();
    if (base == 0 || base > 65535 - 10 * nodes - 1) continue;
    bool all_free = true;
    for (size_t i = 0; i < nodes && all_free; ++i) {
      all_free = net::PortFree(static_cast<uint16_t>(base + 10 * i)) &&
                 net::PortFree(static_cast<uint16_t>(base + 10 * i + 1));
    }
    if (all_free) return base;
  }
  return 0;
}

std::string TokenLine(const std::string& output) {
  size_t at = output.find("join token: ");
  if (at == std::string::npos) return {};
  return output.substr(at, output.find('\n', at) - at);
}

TEST(Demo, StartsAClusterPrintsHowToReachItStopsOnSigtermAndRestartsFromItsData) {
  uint16_t port = FreeDemoPorts(3);
  ASSERT_NE(port, 0);
  ScratchDir scratch("demo");
  std::string data = scratch.path() + "/demo";
  std::string servers;
  for (int i = 0; i < 3; ++i) {
    servers += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(port + 10 * i);
  }
  std::string token;
  for (int run = 0; run < 2; ++run) {  // the second run restarts from the first one's data
    SCOPED_TRACE("run " + std::to_string(run));
    // The restart must reuse the first run's ports, and between the runs they are free for any
    // process to take: another test of a parallel ctest can take one for a moment (its own
    // FreePort). Such a start ends at once naming the port; it is tried again, a few times.
    std::optional<DemoProcess> demo;
    for (int attempt = 0; attempt < 5; ++attempt) {
      demo.emplace(data, port, 3);
      if (demo->WaitForOutput("nds --server " + servers + " set 123")) break;
      if (run == 0 || demo->Output().find("is in use") == std::string::npos) break;
      demo.reset();
      std::this_thread::sleep_for(seconds(2));
    }
    ASSERT_TRUE(demo->Output().find("nds --server " + servers + " set 123") != std::string::npos)
        << demo->Output();
    std::string out = demo->Output();
    for (int i = 0; i < 3; ++i) {
      std::string name = "node" + std::to_string(i + 1);
      EXPECT_NE(out.find(name), std::string::npos) << out;
      EXPECT_NE(out.find((data + "/").append(name)), std::string::npos) << out;
      auto ready = launcher::HttpGet(static_cast<uint16_t>(port + 10 * i), "/readyz", seconds(2));
      ASSERT_TRUE(ready.ok()) << name << ": " << ready.status().ToString();
      EXPECT_EQ(ready->status, 200) << name;
    }
    ASSERT_FALSE(TokenLine(out).empty()) << out;
    if (run == 0) {
      token = TokenLine(out);
      ASSERT_TRUE(ClientFor(servers)->Set("demo", "kept").ok());
    } else {
      EXPECT_EQ(TokenLine(out), token) << "a restarted demo keeps its cluster's token";
      auto got = ClientFor(servers)->KvGet("demo");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, "kept");
    }
    EXPECT_EQ(demo->Stop(), std::optional<int>(0)) << demo->Output();
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(net::PortFree(static_cast<uint16_t>(port + 10 * i)))
          << "node" << i + 1 << " still listens after the demo stopped";
    }
  }
}

TEST(Demo, APortInUseIsNamedInOneLineAndNoNodeStarts) {
  uint16_t port = FreeDemoPorts(3);
  ASSERT_NE(port, 0);
  ScratchDir scratch("demo-busy");
  launcher::NodeSpec squatter;
  squatter.binary = NDS_BINARY;
  squatter.name = "squatter";
  squatter.data_dir = scratch.path() + "/squatter";
  squatter.api_port = static_cast<uint16_t>(port + 10);  // node2's API port
  launcher::NodeProcess other(squatter);
  ASSERT_TRUE(other.Start().ok()) << other.LogTail();
  std::string data = scratch.path() + "/demo";
  DemoProcess demo(data, port, 3);
  ASSERT_TRUE(demo.WaitForOutput("in use")) << demo.Output();
  EXPECT_EQ(demo.Stop(), std::optional<int>(1));
  std::string out = demo.Output();
  EXPECT_NE(out.find("127.0.0.1:" + std::to_string(port + 10)), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_TRUE(net::PortFree(port)) << "node1 was started although a port was taken";
}

}  // namespace
}  // namespace nds::test

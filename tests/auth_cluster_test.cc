// Goal: a cluster made with `nds start --auth` enforces tokens on every node (API.md "Security",
// docs/security.md): a token created through one node works on all of them, a token revoked
// through one node stops working on the others, a restarted node still enforces auth, the
// linearizability checker (`nds check`) passes with a token, and a fresh data directory holds
// only owner-only directories (0700) and files (0600).
// Method: FastClusterTest (launcher::LocalCluster) of three real `nds start` processes on 127.0.0.1
// with
// --auth --root-token-file; nds::Client with and without tokens; `nds check --server` as a child
// process with NDS_AUTH_TOKEN. Every loop is bounded in count and time.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/child_process.h"
#include "launcher/local_cluster.h"
#include "net/loopback_port.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// "root." and 43 base64url characters (the test's own randomness: only the format matters).
std::string NewRootToken() {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rd;
  std::string t = "root.";
  for (int i = 0; i < 43; ++i) t.push_back(kChars[rd() % 64]);
  return t;
}

std::unique_ptr<Client> ClientOf(const std::string& address, const std::string& token) {
  client::ClientOptions o;
  o.servers = client::ParseServerList(address).value();
  o.connect_timeout = milliseconds(1'000);
  o.request_timeout = seconds(5);
  o.retry_deadline = seconds(10);
  o.auth_token = token;
  return Client::Create(std::move(o)).value();
}

// Every directory below `root` (and root) is 0700 and every file 0600; the first offender.
std::string FirstWrongMode(const std::string& root) {
  namespace fs = std::filesystem;
  auto check = [](const fs::path& p) -> std::string {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return {};
    const mode_t mode = st.st_mode & 0777;
    if (S_ISDIR(st.st_mode) && mode != 0700)
      return p.string() + " is a directory of mode " + std::to_string(mode);
    if (S_ISREG(st.st_mode) && mode != 0600)
      return p.string() + " is a file of mode " + std::to_string(mode);
    return {};
  };
  if (std::string bad = check(root); !bad.empty()) return bad;
  std::error_code ec;
  size_t seen = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator() && seen < 100'000;
       it.increment(ec), ++seen) {
    if (std::string bad = check(it->path()); !bad.empty()) return bad;
  }
  return {};
}

class AuthClusterTest : public FastClusterTest {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("auth_cluster");
    ASSERT_FALSE(dir_.empty());
    root_ = NewRootToken();
    const std::string root_file = dir_ + "/root-token";
    std::ofstream(root_file) << root_ << "\n";
    // The launcher's probes (readyz aside) and the `nds check` child send this token.
    ::setenv("NDS_AUTH_TOKEN", root_.c_str(), 1);
    std::vector<std::vector<std::string>> node_args;
    for (size_t i = 0; i < 3; ++i) {
      resp_ports_.push_back(net::FreePort());
      node_args.push_back({"--resp", "127.0.0.1:" + std::to_string(resp_ports_.back())});
    }
    ASSERT_NO_FATAL_FAILURE(
        StartCluster(3, {"--auth", "--root-token-file", root_file}, std::move(node_args)));
  }
  void TearDown() override {
    FastClusterTest::TearDown();
    ::unsetenv("NDS_AUTH_TOKEN");
  }
  std::string Api(size_t i) { return cluster_->node(i).api_address(); }

  std::string root_;
  std::vector<uint16_t> resp_ports_;
};

TEST_F(AuthClusterTest, ATokenCreatedOnOneNodeAuthenticatesOverRespOnAnotherAtOnce) {
  if (!HaveTool("redis-cli")) GTEST_SKIP() << "redis-cli is not installed (redis-tools)";
  // Node 2 may not have applied a token created through node 0 when the AUTH arrives: AUTH
  // looks it up at a read point, so it never gets WRONGPASS. Several tokens, to give the race
  // its chances.
  auto admin = ClientOf(Api(0), root_);
  for (int i = 0; i < 10; ++i) {
    const std::string name = "resp" + std::to_string(i);
    Result<std::string> token = admin->CreateToken(name, "write", "");
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    Output out = RunBounded("redis-cli -p " + std::to_string(resp_ports_[2]) +
                                " --no-auth-warning -a " + *token + " SET " + name + " v",
                            30);
    EXPECT_EQ(out.text, "OK\n") << "token " << i;
  }
  Output wrong = RunBounded(
      "redis-cli -p " + std::to_string(resp_ports_[1]) + " --no-auth-warning -a nosuch.token GET k",
      30);
  EXPECT_NE(wrong.text.find("WRONGPASS"), std::string::npos) << wrong.text;
}

TEST_F(AuthClusterTest, TokensWorkAndRevocationReachesEveryNode) {
  Result<std::string> ci = ClientOf(Api(0), root_)->CreateToken("ci", "write", "ci/");
  ASSERT_TRUE(ci.ok()) << ci.status().ToString();
  for (size_t i = 0; i < 3; ++i) {
    auto with = ClientOf(Api(i), *ci);
    EXPECT_TRUE(with->Put("ci/" + std::to_string(i), "v").ok()) << "node " << i;
    EXPECT_EQ(with->Put("other/" + std::to_string(i), "v").status().code(),
              StatusCode::kInvalidArgument);  // 403
    auto without = ClientOf(Api(i), "")->Raw("GET", "/store/ci/0");
    ASSERT_TRUE(without.ok());
    EXPECT_EQ(without->status, 401) << "node " << i;
    EXPECT_EQ(without->Header("www-authenticate"), "Bearer");
    auto role = ClientOf(Api(i), "")->Raw("GET", "/role");
    ASSERT_TRUE(role.ok());
    EXPECT_EQ(role->status, 200);
  }
  ASSERT_TRUE(ClientOf(Api(1), root_)->RevokeToken("ci").ok());
  for (size_t i : {0, 2}) {
    // A linearizable read is checked at its read point, after the revocation.
    auto read = ClientOf(Api(i), *ci)->Raw("GET", "/store/ci/0");
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->status, 401) << "node " << i;
    // That node has applied the revocation now: it takes no write with the token either.
    auto write = ClientOf(Api(i), *ci)->Raw("PUT", "/store/ci/late", "v");
    ASSERT_TRUE(write.ok());
    EXPECT_EQ(write->status, 401) << "node " << i;
  }
  auto gone = ClientOf(Api(0), root_)->Raw("GET", "/store/ci/late");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
}

TEST_F(AuthClusterTest, ARestartedNodeStillEnforcesAuth) {
  ASSERT_TRUE(cluster_->Terminate(2).ok());
  ASSERT_TRUE(cluster_->Restart(2).ok());
  auto without = ClientOf(Api(2), "")->Raw("PUT", "/store/x", "v");
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->status, 401);
  ASSERT_TRUE(cluster_->WaitReady(seconds(30)).ok());
  EXPECT_TRUE(ClientOf(Api(2), root_)->Put("x", "v").ok());
  auto read = ClientOf(Api(0), "")->Raw("GET", "/store/x");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 401);
  EXPECT_EQ(ClientOf(Api(0), root_)->Get("x")->value, "v");
}

TEST_F(AuthClusterTest, DataDirectoriesAreOwnerOnly) {
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(FirstWrongMode(cluster_->node(i).spec().data_dir), "") << "node " << i;
  }
}

TEST_F(AuthClusterTest, TheLinearizabilityCheckPassesWithAToken) {
  const std::string log = dir_ + "/check.log";
  auto pid = launcher::SpawnLogged({NDS_BINARY, "check", "--server", cluster_->ServerList(),
                                    "--duration", "3s", "--clients", "4", "--keys", "3"},
                                   log);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  std::optional<int> code = launcher::WaitExit(*pid, seconds(60));
  ASSERT_TRUE(code.has_value()) << "nds check did not finish";
  EXPECT_EQ(*code, 0) << launcher::FileTail(log, 3000);
  // And without the token it cannot run at all.
  ::unsetenv("NDS_AUTH_TOKEN");
  auto refused = launcher::SpawnLogged({NDS_BINARY, "check", "--server", cluster_->ServerList(),
                                        "--duration", "1s", "--clients", "1"},
                                       log + ".refused");
  ASSERT_TRUE(refused.ok());
  std::optional<int> refused_code = launcher::WaitExit(*refused, seconds(60));
  ASSERT_TRUE(refused_code.has_value());
  EXPECT_NE(*refused_code, 0);
}

}  // namespace
}  // namespace nds::test

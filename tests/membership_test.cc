// Goal: a node knows who it is and whether it still belongs (docs/operations.md "Identity and data
// directories", docs/api.md "Cluster"): `nds start --data DIR` alone restarts a node as it was; a
// different --name, a data directory without its meta file, and a removed node's directory are
// refused with what to do; a join that cannot start (a port in use, another engine) adds no
// member; a removed node says so on every route; a node without a quorum answers no_quorum
// quickly instead of waiting out the request timeout; /cluster/members is the leader's view on
// every node.
// Method: real `nds` processes on 127.0.0.1 (launcher::LocalCluster, launcher::NodeProcess, and
// bare `nds start` children for the flagless restarts). Every wait is bounded; the one timing
// assertion has a bound several times the expected time and well under the request timeout.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/stat.h>

#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/raw_http.h"
#include "launcher/child_process.h"
#include "launcher/local_cluster.h"
#include "launcher/node_process.h"

namespace nds::test {
namespace {

using launcher::LocalCluster;
using launcher::LocalClusterOptions;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kElectionMs = 500;
// A request timeout far above the no-quorum bound: an answer within the bound cannot be a timeout.
const std::vector<std::string> kFlags = FastNodeFlagsWith(
    {"--election-timeout-ms", std::to_string(kElectionMs), "--request-timeout-ms", "10000"});

// Runs `nds <args>` (stdout and stderr together); the output and the exit status.
std::pair<std::string, int> RunCli(const std::string& args) {
  std::string command = std::string(NDS_BINARY) + " --timeout 20 " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {"popen failed", -1};
  std::string out;
  char buf[256];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0 && out.size() < (1 << 20)) out.append(buf, n);
  return {out, pclose(pipe)};
}

nlohmann::json Json(const HttpAnswer& a) {
  return nlohmann::json::parse(a.body, nullptr, /*allow_exceptions=*/false);
}

// A bare `nds start <args>` child; its log is `log`.
struct Child {
  pid_t pid = -1;
  std::string log;
  Child(const std::vector<std::string>& args, std::string log_path) : log(std::move(log_path)) {
    std::vector<std::string> argv = {NDS_BINARY, "start"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto spawned = launcher::SpawnLogged(argv, log);
    if (spawned.ok()) pid = *spawned;
  }
  ~Child() {
    if (pid > 0 && !launcher::WaitExit(pid, milliseconds(0))) {
      ::kill(pid, SIGKILL);
      (void)launcher::WaitExit(pid, seconds(10));
    }
  }
  // The exit status once it exits within `bound`; std::nullopt while it still runs.
  std::optional<int> Exit(milliseconds bound = seconds(20)) {
    auto status = launcher::WaitExit(pid, bound);
    if (status) pid = -1;
    return status;
  }
  std::string Log() const { return launcher::FileTail(log, 4000); }
};

// GET `target` on 127.0.0.1:`port` until it answers `want` (any status when 0), up to `bound`.
HttpAnswer Poll(uint16_t port, const std::string& target, int want, milliseconds bound) {
  HttpAnswer last;
  for (auto end = Clock::now() + bound; Clock::now() < end;) {
    RawHttp http(port, seconds(5));
    last = http.Request("GET", target);
    if (last.status != 0 && (want == 0 || last.status == want)) return last;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return last;
}

TEST(Identity, ADataDirectoryAloneRestartsTheNodeAndRefusesAnotherNameOrAMissingMeta) {
  const std::string base = MakeTempDir("identity");
  launcher::NodeSpec spec;
  spec.binary = NDS_BINARY;
  spec.name = "n7";
  spec.data_dir = base + "/d";
  spec.token = "identity-token";
  spec.extra_args = kFlags;
  uint16_t api_port = 0;
  {
    launcher::NodeProcess node(spec);
    ASSERT_TRUE(node.Start().ok());
    api_port = node.spec().api_port;
    ASSERT_TRUE(node.Stop(SIGTERM).ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat((spec.data_dir + "/identity").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  {  // --data alone: same name, same API address.
    Child again({"--data", spec.data_dir}, base + "/again.log");
    HttpAnswer status = Poll(api_port, "/status", 200, seconds(20));
    ASSERT_EQ(status.status, 200) << again.Log();
    EXPECT_EQ(Json(status)["name"], "n7") << status.body;
    ::kill(again.pid, SIGTERM);
    EXPECT_EQ(again.Exit(), 0) << again.Log();
  }
  {  // Another name for the same directory.
    Child renamed({"--data", spec.data_dir, "--name", "other"}, base + "/renamed.log");
    EXPECT_EQ(renamed.Exit(), 1) << renamed.Log();
    EXPECT_NE(renamed.Log().find("belongs to node 'n7', not 'other'"), std::string::npos)
        << renamed.Log();
  }
  {  // meta deleted, the Raft log kept: refused, never a new cluster.
    std::filesystem::remove(spec.data_dir + "/meta");
    Child orphan({"--data", spec.data_dir}, base + "/orphan.log");
    EXPECT_EQ(orphan.Exit(), 1) << orphan.Log();
    EXPECT_NE(orphan.Log().find("no meta file"), std::string::npos) << orphan.Log();
    EXPECT_FALSE(std::filesystem::exists(spec.data_dir + "/meta"));
  }
  {  // meta and the Raft log deleted, the engine kept: refused as well.
    std::filesystem::remove_all(spec.data_dir + "/wal");
    std::filesystem::remove_all(spec.data_dir + "/snap");
    Child orphan({"--data", spec.data_dir}, base + "/engine-only.log");
    EXPECT_EQ(orphan.Exit(), 1) << orphan.Log();
    EXPECT_NE(orphan.Log().find("holds an engine with data"), std::string::npos) << orphan.Log();
    EXPECT_FALSE(std::filesystem::exists(spec.data_dir + "/meta"));
  }
  std::filesystem::remove_all(base);
}

// Holds 127.0.0.1:<port> open (bound and listening) for its lifetime.
struct BusyPort {
  int fd = -1;
  uint16_t port = 0;
  BusyPort() {
    port = FreePort();
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) {
      port = 0;
    }
  }
  ~BusyPort() { ::close(fd); }
};

TEST(JoinChecks, APortInUseABadLimitOrAnotherEngineIsRefusedBeforeJoiningAndLeavesNoMember) {
  NdsProcess a(MakeTempDir("join-checks"), {"--token", "join-checks"});
  ASSERT_TRUE(a.Start()) << a.error;
  RawHttp http(a.port());
  // A new cluster records its first member once it leads, a moment after /healthz answers: wait
  // for that record (at most 10 s) before checking that no joiner adds another.
  nlohmann::json members;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    members = Json(http.Request("GET", "/cluster/members"));
    if (members.is_array() && members.size() == 1) break;
  }
  ASSERT_TRUE(members.is_array() && members.size() == 1)
      << "the first node does not list itself: " << members.dump();
  const std::string base = MakeTempDir("joiners");
  BusyPort busy;
  ASSERT_NE(busy.port, 0);
  const std::string free_peer = "127.0.0.1:" + std::to_string(FreePort());
  {
    Child j({"--name", "j1", "--api", "127.0.0.1:" + std::to_string(busy.port), "--peer", free_peer,
             "--data", base + "/j1", "--join", a.address(), "--token", "join-checks"},
            base + "/j1.log");
    EXPECT_EQ(j.Exit(), 2) << j.Log();
    EXPECT_NE(j.Log().find("cannot be bound"), std::string::npos) << j.Log();
  }
  {
    Child j({"--name", "j2", "--api", "127.0.0.1:" + std::to_string(FreePort()), "--peer",
             free_peer, "--data", base + "/j2", "--engine", "memory", "--join", a.address(),
             "--token", "join-checks"},
            base + "/j2.log");
    EXPECT_EQ(j.Exit(), 1) << j.Log();
    EXPECT_NE(j.Log().find("runs the rocksdb engine"), std::string::npos) << j.Log();
  }
  {  // A limit the HTTP server would refuse once it starts: refused before the join.
    Child j({"--name", "j3", "--api", "127.0.0.1:" + std::to_string(FreePort()), "--peer",
             free_peer, "--data", base + "/j3", "--max-header-bytes", "10", "--join", a.address(),
             "--token", "join-checks"},
            base + "/j3.log");
    EXPECT_EQ(j.Exit(), 2) << j.Log();
    EXPECT_NE(j.Log().find("--max-header-bytes: 10 is out of range"), std::string::npos) << j.Log();
  }
  members = Json(http.Request("GET", "/cluster/members"));
  ASSERT_TRUE(members.is_array()) << members.dump();
  EXPECT_EQ(members.size(), 1u) << "a refused joiner was added: " << members.dump();
  EXPECT_EQ(a.Stop(SIGTERM), 0);
  std::filesystem::remove_all(base);
  std::filesystem::remove_all(a.data_dir());
}

class QuorumTest : public FastClusterTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartCluster(4, {"--election-timeout-ms", std::to_string(kElectionMs),
                                             "--request-timeout-ms", "10000"}));
  }
  uint16_t Port(size_t i) { return cluster_->node(i).spec().api_port; }
};

// One cluster of 4 for the whole story: one node leaves (and is refused at restart), one is
// killed (the others' member lists say so), one more is killed (the last has no quorum).
TEST_F(QuorumTest, RemovedNodesKnowItMembersAreTheLeadersViewAndNoQuorumIsQuick) {
  auto goose = cluster_->WaitForGoose(seconds(10));
  ASSERT_TRUE(goose.ok());
  const size_t leader = *goose;
  std::vector<size_t> followers;
  for (size_t i = 0; i < 4; ++i)
    if (i != leader) followers.push_back(i);

  // Leave: the CLI says what it did; the removed node says so everywhere.
  const size_t gone = followers[0];
  const uint64_t gone_id = IdOf(gone).value;
  auto [leave_out, leave_status] = RunCli("--server " + cluster_->node(leader).api_address() +
                                          " leave " + std::to_string(gone_id));
  EXPECT_EQ(leave_status, 0) << leave_out;
  EXPECT_NE(leave_out.find("removed node " + std::to_string(gone_id)), std::string::npos)
      << leave_out;
  cluster_->MarkRemoved(gone);
  HttpAnswer ready = Poll(Port(gone), "/readyz", 503, seconds(10));
  EXPECT_EQ(Json(ready)["error"], "removed") << ready.body;
  {
    RawHttp http(Port(gone));
    EXPECT_EQ(Json(http.Request("GET", "/status"))["role"], "removed");
    HttpAnswer stale = http.Request("GET", "/get?k=a&consistency=stale");
    EXPECT_EQ(stale.status, 503);
    EXPECT_EQ(Json(stale)["error"], "removed") << stale.body;
    EXPECT_EQ(Json(http.Request("PUT", "/store/a", "x"))["error"], "removed");
  }
  ASSERT_TRUE(cluster_->node(gone).Stop(SIGTERM).ok());
  {
    Child restarted({"--data", cluster_->node(gone).spec().data_dir},
                    cluster_->node(gone).spec().data_dir + "-restart.log");
    EXPECT_EQ(restarted.Exit(), 1) << restarted.Log();
    EXPECT_NE(restarted.Log().find("was removed from its cluster"), std::string::npos)
        << restarted.Log();
    EXPECT_NE(restarted.Log().find("--join"), std::string::npos) << restarted.Log();
  }

  // Three voters left; kill one follower: the other follower's member list shows it unreachable.
  const size_t killed = followers[1];
  const size_t survivor = followers[2];
  const uint64_t killed_id = IdOf(killed).value;
  ASSERT_TRUE(cluster_->Kill(killed).ok());
  bool seen_unreachable = false;
  for (auto end = Clock::now() + seconds(10); !seen_unreachable && Clock::now() < end;) {
    RawHttp http(Port(survivor));
    auto members = Json(http.Request("GET", "/cluster/members"));
    for (const auto& m : members) {
      if (m.is_object() && m.value("id", uint64_t{0}) == killed_id && m.contains("reachable") &&
          m["reachable"] == false) {
        seen_unreachable = true;
      }
    }
    if (!seen_unreachable) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(seen_unreachable) << "a follower still lists the killed node as reachable";

  // Kill the leader too: the survivor answers no_quorum within about an election timeout.
  ASSERT_TRUE(cluster_->Kill(leader).ok());
  RawHttp http(Port(survivor), seconds(15));
  const auto asked = Clock::now();
  HttpAnswer put = http.Request("PUT", "/store/after", "x");
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - asked);
  std::cout << "a quorumless write answered in " << took.count() << " ms\n";
  EXPECT_EQ(put.status, 503) << put.body;
  EXPECT_EQ(Json(put)["error"], "no_quorum") << put.body;
  EXPECT_NE(put.body.find("1 of 3 voting members reachable"), std::string::npos) << put.body;
  // Detection takes one election timeout; the bound leaves room for a loaded machine and stays
  // far below the 10 s request timeout a write without the check would wait.
  EXPECT_LT(took, milliseconds(2 * kElectionMs + 2500));
  HttpAnswer read = http.Request("GET", "/store/after");
  EXPECT_EQ(Json(read)["error"], "no_quorum") << read.body;
  const auto cli_started = Clock::now();
  auto [put_out, put_status] =
      RunCli("--server " + cluster_->node(survivor).api_address() + " put k v");
  std::cout << "nds put without a quorum exited after "
            << std::chrono::duration_cast<milliseconds>(Clock::now() - cli_started).count()
            << " ms: " << put_out;
  EXPECT_NE(put_status, 0);
  EXPECT_NE(put_out.find("no quorum"), std::string::npos) << put_out;
}

}  // namespace
}  // namespace nds::test

// Goal: `nds check` works end to end against real `nds start` processes that it starts itself:
// it records and checks a history, injects faults, heals the cluster, and exits 0 only without
// anomalies. Method: run the built binary (NDS_BINARY) with --json under `timeout`, parse its
// report. Every run is bounded by --duration and by `timeout` (the test's own bound). The watch,
// lease and lock workloads (--workload) run the same way on three nodes with kills.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "launcher/child_process.h"
#include "launcher/netns.h"
#include "net/test_pki.h"

namespace {

// Its implicit move of nlohmann::json is taken for a throwing one.
struct CheckRun {  // NOLINT(bugprone-exception-escape)
  int exit_status = -1;
  nlohmann::json report;
  std::string output;
};

// The whole file, or "" when it cannot be read.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// How many times longer a run of fixed length lasts in a sanitizer build, where every start, kill
// and restart of a node takes several times as long: the run gets time for its faults.
#ifdef NDS_SANITIZED
constexpr int kSlowdown = 2;
#else
constexpr int kSlowdown = 1;
#endif

// `--duration <seconds>s`, longer in a sanitizer build (kSlowdown).
std::string Lasting(int seconds) {
  return " --duration " + std::to_string(seconds * kSlowdown) + "s ";
}

// Runs `nds check <args> --json` with a hard bound of `bound_seconds` (longer in a sanitizer
// build, like the runs it bounds).
CheckRun RunCheck(const std::string& args, int bound_seconds) {
  // Named after the process: ctest runs other entries of this binary at the same time.
  const std::string stem = ::testing::TempDir() + "check_" + std::to_string(getpid());
  std::string out_path = stem + "_report.json";
  std::string err_path = stem + "_stderr.txt";
  std::string command = "timeout -s KILL " + std::to_string(bound_seconds * kSlowdown) + " " +
                        NDS_BINARY + " check " + args + " --json > " + out_path + " 2> " + err_path;
  int raw = std::system(command.c_str());
  CheckRun run;
  run.exit_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::string report_text = ReadFile(out_path);
  run.output = report_text + "\n--- stderr ---\n" + ReadFile(err_path);
  run.report = nlohmann::json::parse(report_text, nullptr, /*allow_exceptions=*/false);
  return run;
}

// At least `n` faults injected in a run of fixed length, or half as many (at least one when `n` is
// not 0) in a sanitizer build: its runs last kSlowdown times as long, but a kill and restart of an
// instrumented node takes more than kSlowdown times as long.
uint64_t FaultsAtLeast(uint64_t n) {
#ifdef NDS_SANITIZED
  return n == 0 ? 0 : std::max<uint64_t>(1, n / 2);
#else
  return n;
#endif
}

uint64_t Injected(const nlohmann::json& report) {
  uint64_t n = 0;
  for (const auto& f : report["faults"]) n += f["injected"].get<bool>() ? 1 : 0;
  return n;
}

// A clean run: exit 0, no anomaly of any kind, every kind of operation succeeded, every key
// checked, at least `faults_min` faults injected.
void ExpectCleanRun(const CheckRun& run, size_t keys, uint64_t faults_min) {
  ASSERT_TRUE(run.report.is_object()) << run.output;
  EXPECT_EQ(run.exit_status, 0) << run.output;
  EXPECT_FALSE(run.report["anomaly"].get<bool>()) << run.output;
  EXPECT_TRUE(run.report["two_geese"].empty()) << run.output;
  EXPECT_TRUE(run.report["problems"].empty()) << run.output;
  for (const char* kind : {"read", "write", "cas"}) {
    EXPECT_GT(run.report["operations"][kind]["ok"].get<uint64_t>(), 0u) << kind << run.output;
  }
  EXPECT_GE(Injected(run.report), FaultsAtLeast(faults_min)) << run.output;
  EXPECT_EQ(run.report["linearizability"]["keys_checked"].get<size_t>(), keys) << run.output;
  EXPECT_GT(run.report["role_polls"]["answers"].get<uint64_t>(), 0u) << run.output;
}

TEST(CheckProcess, OneLocalNodeWithKillsAndPausesHasNoAnomaly) {
  ExpectCleanRun(RunCheck("--local 1 --clients 4 --keys 3" + Lasting(8) +
                              "--faults kill,pause,restart "
                              "--fault-interval 1500ms --request-timeout 1s --seed 7",
                          60),
                 3, 3);
}

TEST(CheckProcess, ThreeLocalNodesUnderEveryFaultKindHaveNoAnomaly) {
  // Kills, clean restarts, pauses, leader kills and a membership change, one every 1.5 s.
  ExpectCleanRun(RunCheck("--local 3 --clients 6 --keys 4" + Lasting(15) +
                              "--faults all "
                              "--fault-interval 1500ms --request-timeout 1s --seed 3",
                          60),
                 4, 4);
}

TEST(CheckProcess, ALocalClusterWithHttpsAndAuthPassesItsFlagsToTheNodes) {
  // --cacert and --token-file reach the nodes nds check starts: they serve HTTPS with the
  // certificate of --node-arg, the first makes the cluster with --auth and the root token of
  // --token-file, and the clients and probes use both.
  const std::string dir = ::testing::TempDir() + "check-tls-auth";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto pki = nds::net::testing::MakeTestPki(dir);
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  const std::string root = dir + "/root";
  {
    std::ofstream out(root);
    out << "root." << std::string(43, 'r') << "\n";
  }
  std::filesystem::permissions(
      root, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CheckRun run = RunCheck(
      "--local 3 --clients 3 --keys 3 --ops 150 --seed 5 --cacert " + pki->Cert("ca") +
          " --token-file " + root + " --node-arg=--tls-cert --node-arg=" + pki->Cert("server") +
          " --node-arg=--tls-key --node-arg=" + pki->Key("server") + " --node-arg=--auth",
      120);
  ExpectCleanRun(run, 3, 0);
  std::filesystem::remove_all(dir);
}

// A clean run of `--local 3 --protocol <protocol> <args>` on `keys` keys with at least two faults,
// its report naming the protocol.
CheckRun ExpectCleanRunOver(const std::string& protocol, const std::string& args, size_t keys) {
  CheckRun run = RunCheck("--local 3 --protocol " + protocol + " --clients 4 --keys " +
                              std::to_string(keys) + Lasting(8) + args,
                          90);
  ExpectCleanRun(run, keys, 2);
  EXPECT_NE(run.report["cluster"].get<std::string>().find("over " + protocol), std::string::npos)
      << run.output;
  return run;
}

TEST(CheckProcess, ThreeLocalNodesOverRespWithKillsAndPausesHaveNoAnomaly) {
  // The register workload through each node's RESP listener (GET, SET, SET ... NX).
  ExpectCleanRunOver(
      "resp", "--faults kill,pause --fault-interval 1500ms --request-timeout 1s --seed 11", 6);
}

TEST(CheckProcess, ThreeLocalNodesOverTxnWithKillsHaveNoAnomaly) {
  // The register workload as transactions: reads, puts, and compare-then-put through POST /txn.
  CheckRun run = ExpectCleanRunOver(
      "txn", "--faults kill --fault-interval 2s --request-timeout 2s --seed 13", 6);
  EXPECT_GT(run.report["operations"]["cas_swapped"].get<uint64_t>(), 0u) << run.output;
}

TEST(CheckProcess, ProtocolFlagsAreChecked) {
  EXPECT_EQ(RunCheck("--local 1 --protocol gopher", 20).exit_status, 2);
  // RESP against existing servers needs their RESP addresses, one per server.
  EXPECT_EQ(RunCheck("--server 127.0.0.1:1 --protocol resp", 20).exit_status, 2);
  EXPECT_EQ(RunCheck("--server 127.0.0.1:1 --resp-server 127.0.0.1:2", 20).exit_status, 2);
  // A node the member fault adds would have no RESP listener.
  EXPECT_EQ(RunCheck("--local 3 --protocol resp --faults member", 20).exit_status, 2);
}

TEST(CheckProcess, PartitionFlagsAreChecked) {
  // Partitioned nodes listen on their namespace's address: not over RESP, not with HTTPS.
  EXPECT_EQ(RunCheck("--local 3 --protocol resp --faults partition", 20).exit_status, 2);
  EXPECT_EQ(RunCheck("--local 3 --cacert /nonexistent --faults partition", 20).exit_status, 2);
}

TEST(CheckProcess, PartitionsWithoutRootFailWithAClearError) {
  // Network namespaces need root: as another user, the run fails (exit 1) saying so, before any
  // node starts. As root, the run is made as nobody through setpriv.
  std::string as_user =
      ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " : "";
  std::string out = ::testing::TempDir() + "check_noroot.txt";
  std::string command = "cd / && " + as_user + "timeout -s KILL 20 " + NDS_BINARY +
                        " check --local 3 --faults partition --duration 1s > " + out + " 2>&1";
  int raw = std::system(command.c_str());
  std::string text = ReadFile(out);
  ASSERT_TRUE(WIFEXITED(raw)) << text;
  EXPECT_EQ(WEXITSTATUS(raw), 1) << text;
  EXPECT_NE(text.find("--faults partition"), std::string::npos) << text;
  EXPECT_NE(text.find("need root"), std::string::npos) << text;
  EXPECT_EQ(text.find("starting a local cluster"), std::string::npos) << text;
}

TEST(CheckProcess, BadFlagsExitTwo) {
  CheckRun run = RunCheck("--local 1 --clients 0", 20);
  EXPECT_EQ(run.exit_status, 2) << run.output;
  run = RunCheck("--local 1 --faults fire", 20);
  EXPECT_EQ(run.exit_status, 2) << run.output;
}

TEST(CheckProcess, AnUnreachableClusterIsNotAPass) {
  // Nothing listens on port 1: no operation succeeds, so nothing was checked.
  CheckRun run = RunCheck("--server 127.0.0.1:1 --ops 20 --clients 2", 30);
  EXPECT_EQ(run.exit_status, 1) << run.output;
  ASSERT_TRUE(run.report.is_object()) << run.output;
  EXPECT_EQ(run.report["operations"]["all"]["ok"].get<uint64_t>(), 0u) << run.output;
  EXPECT_TRUE(run.report["anomaly"].get<bool>()) << run.output;
}

// A clean run of `workload` on three nodes with kills; returns the workload's counts.
nlohmann::json ExpectCleanWorkload(const std::string& workload, const std::string& extra) {
  CheckRun run = RunCheck("--local 3 --workload " + workload + " --clients 3" + Lasting(6) +
                              "--faults kill --fault-interval 1500ms "
                              "--request-timeout 1s --seed 21 " +
                              extra,
                          120);
  EXPECT_EQ(run.exit_status, 0) << run.output;
  if (!run.report.is_object()) {
    ADD_FAILURE() << run.output;
    return {};
  }
  EXPECT_FALSE(run.report["anomaly"].get<bool>()) << run.output;
  EXPECT_TRUE(run.report["problems"].empty()) << run.output;
  const nlohmann::json& w = run.report["workload"];
  EXPECT_EQ(w["name"], workload) << run.output;
  EXPECT_TRUE(w["problems"].empty()) << run.output;
  EXPECT_GT(w["checked"].get<uint64_t>(), 0u) << run.output;
  uint64_t injected = 0;
  for (const auto& f : run.report["faults"]) injected += f["injected"].get<bool>() ? 1 : 0;
  EXPECT_GE(injected, FaultsAtLeast(2)) << run.output;
  return w["counts"];
}

// Values of 2 KiB: their history events refer to the records (store/history.h), which watchers
// resuming after a kill read back.
TEST(WorkloadProcess, WatchersSeeEveryWriteOnceAcrossKills) {
  nlohmann::json counts = ExpectCleanWorkload("watch", "--keys 4 --value-bytes 2048");
  EXPECT_GT(counts["acknowledged_writes"].get<uint64_t>(), 0u);
  EXPECT_EQ(counts["watchers"].get<uint64_t>(), 3u);
  EXPECT_GE(counts["events"].get<uint64_t>(), 3 * counts["acknowledged_writes"].get<uint64_t>());
}

// Leader kills and membership changes: in time every node the run began with may have left the
// cluster (a member fault removes a node that is not the goose, and a leader kill moves the goose).
// Writers and watchers then go on through the nodes that joined since. Before they did, a run of
// seed 72 with --faults all ended with every watcher stuck at the revision at which the last
// original node left.
TEST(WorkloadProcess, WatchersFollowTheClusterThroughMembershipChanges) {
  CheckRun run = RunCheck("--local 3 --workload watch --clients 3 --keys 4" + Lasting(8) +
                              "--faults leader,member --fault-interval 1000ms "
                              "--request-timeout 1s --seed 22",
                          150);
  EXPECT_EQ(run.exit_status, 0) << run.output;
  ASSERT_TRUE(run.report.is_object()) << run.output;
  EXPECT_FALSE(run.report["anomaly"].get<bool>()) << run.output;
  size_t members = 0;
  for (const auto& f : run.report["faults"]) {
    members += f["injected"].get<bool>() && f["kind"] == "member" ? 1 : 0;
  }
  EXPECT_GE(members, FaultsAtLeast(2)) << run.output;
  const nlohmann::json& counts = run.report["workload"]["counts"];
  EXPECT_GE(counts["events"].get<uint64_t>(), 3 * counts["acknowledged_writes"].get<uint64_t>());
}

TEST(WorkloadProcess, LeasesKeptAliveStayAndExpiredOnesStayGoneAcrossKills) {
  nlohmann::json counts = ExpectCleanWorkload("lease", "");
  EXPECT_GT(counts["reads_while_kept"].get<uint64_t>(), 0u);
  EXPECT_GT(counts["leases_seen_expired"].get<uint64_t>(), 0u);
  EXPECT_GT(counts["reads_after_expiry"].get<uint64_t>(), 0u);
}

TEST(WorkloadProcess, LockHoldersNeverOverlapAcrossKills) {
  nlohmann::json counts = ExpectCleanWorkload("lock", "");
  EXPECT_GT(counts["holds"].get<uint64_t>(), 1u);
  EXPECT_GT(counts["register_swaps"].get<uint64_t>(), 1u);
}

TEST(WorkloadProcess, WorkloadFlagsAreChecked) {
  EXPECT_EQ(RunCheck("--local 1 --workload queue", 20).exit_status, 2);
  EXPECT_EQ(RunCheck("--local 1 --workload watch --ops 10", 20).exit_status, 2);
  EXPECT_EQ(RunCheck("--local 3 --workload lock --protocol resp", 20).exit_status, 2);
}

// Partitions on real processes: each node in a network namespace of its own, one node cut off from
// the others (blackhole routes both ways) every 2 s and healed a second later, for 20 s. Needs
// root: skipped (and reported as skipped by ctest) when namespaces cannot be made.
TEST(CheckPartition, ThreeNodesWithOneCutOffAtATimeHaveNoAnomaly) {
  {
    auto probe = nds::launcher::NetnsNetwork::Create(::testing::TempDir() + "netns-probe.log");
    if (!probe.ok()) GTEST_SKIP() << "needs network namespaces: " << probe.status().ToString();
  }
  CheckRun run = RunCheck("--local 3 --clients 4 --keys 4" + Lasting(20) +
                              "--faults partition --fault-interval 2s "
                              "--request-timeout 2s --seed 17",
                          180);
  ExpectCleanRun(run, 4, 5);
  if (!run.report.is_object()) return;
  for (const auto& f : run.report["faults"]) {
    EXPECT_EQ(f["kind"], "partition") << run.output;
    if (f["injected"].get<bool>()) {
      EXPECT_TRUE(f["healed"].get<bool>()) << run.output;
    }
  }
}

// Ctrl-C in the middle of a partition run: the checker dies of SIGINT, and its reaper still
// removes the namespaces and the bridge (and kills the nodes left in them). Needs root.
TEST(CheckPartition, AnInterruptedRunLeavesNoNamespaceBehind) {
  {
    auto probe = nds::launcher::NetnsNetwork::Create(::testing::TempDir() + "netns-probe.log");
    if (!probe.ok()) GTEST_SKIP() << "needs network namespaces: " << probe.status().ToString();
  }
  // A shell runs background jobs with SIGINT ignored, and the child would inherit that.
  std::signal(SIGINT, SIG_DFL);
  const std::string log = ::testing::TempDir() + "check_sigint.log";
  auto pid = nds::launcher::SpawnLogged(
      {NDS_BINARY, "check", "--local", "3", "--faults", "partition", "--duration", "60s"}, log);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  const std::string tag = "nds" + std::to_string(*pid);
  const std::vector<std::string> paths = {"/var/run/netns/" + tag + "n0",
                                          "/var/run/netns/" + tag + "n2",
                                          "/sys/class/net/" + tag + "br"};
  auto any_left = [&] {
    for (const auto& p : paths) {
      if (std::filesystem::exists(p)) return true;
    }
    return false;
  };
  // Polled, bounded: until the third node's namespace exists (the cluster is being formed).
  for (int i = 0; i < 600 && !std::filesystem::exists(paths[1]); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(paths[1])) << nds::launcher::FileTail(log, 2000);
  ::kill(*pid, SIGINT);
  std::optional<int> status = nds::launcher::WaitExit(*pid, std::chrono::seconds(30));
  if (!status) ::kill(*pid, SIGKILL);
  ASSERT_TRUE(status.has_value()) << "nds check still runs 30 s after SIGINT";
  EXPECT_EQ(*status, 128 + SIGINT) << nds::launcher::FileTail(log, 2000);
  for (int i = 0; i < 400 && any_left(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(any_left()) << "namespaces or bridge of " << tag << " left after SIGINT";
}

}  // namespace

// Goal: `nds check --workload watch|lease|lock` runs end to end against three real `nds start`
// processes that it starts, under node kills, ends by itself, and finds no anomaly; a workload
// with flags it cannot honour is refused. Method: run the built binary (NDS_BINARY) with --json
// under `timeout -s KILL` (the test's own bound) and read its report.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {

struct Run {
  int exit_status = -1;
  nlohmann::json report;
  std::string output;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Run RunCheck(const std::string& args, int bound_seconds) {
  std::string out_path = ::testing::TempDir() + "workload_report.json";
  std::string err_path = ::testing::TempDir() + "workload_stderr.txt";
  std::string command = "timeout -s KILL " + std::to_string(bound_seconds) + " " + NDS_BINARY +
                        " check " + args + " --json > " + out_path + " 2> " + err_path;
  int raw = std::system(command.c_str());
  Run run;
  run.exit_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::string text = ReadFile(out_path);
  run.output = text + "\n--- stderr ---\n" + ReadFile(err_path);
  run.report = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return run;
}

// A clean run of `workload` on three nodes with kills; returns the workload's counts.
nlohmann::json ExpectCleanWorkload(const std::string& workload, const std::string& extra) {
  Run run = RunCheck("--local 3 --workload " + workload +
                         " --clients 3 --duration 6s --faults kill --fault-interval 1500ms "
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
  EXPECT_GE(injected, 2u) << run.output;
  return w["counts"];
}

TEST(WorkloadProcess, WatchersSeeEveryWriteOnceAcrossKills) {
  nlohmann::json counts = ExpectCleanWorkload("watch", "--keys 4");
  EXPECT_GT(counts["acknowledged_writes"].get<uint64_t>(), 0u);
  EXPECT_EQ(counts["watchers"].get<uint64_t>(), 3u);
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

}  // namespace

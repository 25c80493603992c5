// Goal: what an operator sees of one node, as docs/operations.md and docs/cli.md say: JSON log
// lines (each one an object with ts, level and msg; the leader change carries its term and
// index), /metrics with # HELP and # TYPE for every family and counters that move under load,
// every `-o json` output of the CLI parseable, GET / answering a pointer, and the node's threads
// named as the "Threads" table says.
// Method: one real `nds start --log-format json` child on 127.0.0.1; its log file read back and
// parsed line by line; /metrics scraped over a raw socket before and after a load of writes; the
// built `nds` binary run against it through the shell, its stdout parsed as JSON.
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sample name -> value, and the families that have # HELP and # TYPE lines.
struct Scrape {
  std::map<std::string, double> samples;
  std::set<std::string> help;
  std::set<std::string> type;
  std::vector<std::string> families_of_samples;
};

Scrape ParseMetrics(const std::string& text) {
  Scrape s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("# HELP ")) {
      s.help.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.starts_with("# TYPE ")) {
      s.type.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line[0] != '#') {
      const size_t space = line.rfind(' ');
      const std::string name = line.substr(0, space);
      s.samples[name] = std::strtod(line.c_str() + space + 1, nullptr);
      std::string family = name.substr(0, name.find('{'));
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (family.ends_with(suffix) && !s.type.contains(family)) {
          family.resize(family.size() - std::string_view(suffix).size());
          break;
        }
      }
      s.families_of_samples.push_back(family);
    }
  }
  return s;
}

class OpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = MakeTempDir("ops");
    node_ = new NdsProcess(dir_, {"--log-format", "json", "--log-level", "info", "--resp",
                                  "127.0.0.1:" + std::to_string(FreePort())});
    ASSERT_TRUE(node_->Start()) << node_->error;
  }
  static void TearDownTestSuite() {
    if (node_) {
      EXPECT_EQ(node_->Stop(SIGTERM), 0) << node_->LogTail();
    }
    delete node_;
    node_ = nullptr;
  }

  // Runs `nds ARGS --server <node>`; returns the exit status and fills `out`.
  int Nds(const std::string& args, std::string* out) {
    const std::string file = dir_ + ".cli-out";
    const std::string command = fmt::format("'{}' {} --server 127.0.0.1:{} >'{}' 2>&1", NDS_BINARY,
                                            args, node_->port(), file);
    const int raw = std::system(command.c_str());
    *out = ReadFile(file);
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }

  static inline std::string dir_;
  static inline NdsProcess* node_ = nullptr;
};

TEST_F(OpsTest, JsonLogLinesParseAndTheLeaderChangeCarriesItsTerm) {
  // A lone node elects itself while it opens, before it serves: the line is there by now.
  std::istringstream log(ReadFile(dir_ + ".log"));
  std::string line;
  int json_lines = 0;
  bool leader_change = false;
  while (std::getline(log, line)) {
    if (line.empty() || line[0] != '{') continue;  // the join token banner is not a log line
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ++json_lines;
    for (const char* field : {"ts", "level", "msg"}) {
      ASSERT_TRUE(j.contains(field) && j[field].is_string()) << field << " in " << line;
    }
    if (j.value("event", "") == "leader_changed") {
      leader_change = true;
      ASSERT_TRUE(j["term"].is_number_unsigned()) << line;
      EXPECT_GE(j["term"].get<uint64_t>(), 1u) << line;
      EXPECT_TRUE(j["commit_index"].is_number_unsigned()) << line;
      EXPECT_TRUE(j["leader"].is_number_unsigned()) << line;
    }
  }
  EXPECT_GT(json_lines, 2);
  EXPECT_TRUE(leader_change) << node_->LogTail();
}

TEST_F(OpsTest, EveryMetricFamilyHasHelpAndTypeAndCountersMoveUnderLoad) {
  RawHttp http(node_->port());
  const Scrape before = ParseMetrics(http.Request("GET", "/metrics").body);
  ASSERT_FALSE(before.samples.empty());
  for (const std::string& family : before.families_of_samples) {
    EXPECT_TRUE(before.help.contains(family)) << "no # HELP for " << family;
    EXPECT_TRUE(before.type.contains(family)) << "no # TYPE for " << family;
  }
  for (const char* name :
       {"nds_has_leader", "nds_leader_changes_total", "nds_term", "nds_commit_index",
        "nds_applied_index", "nds_wal_fsync_seconds_count", "nds_apply_seconds_count",
        "nds_snapshots_total{kind=\"installed\"}", "nds_keys_estimate", "process_cpu_seconds_total",
        "process_resident_memory_bytes", "process_open_fds"}) {
    EXPECT_TRUE(before.samples.contains(name)) << name;
  }
  EXPECT_EQ(before.samples.at("nds_has_leader"), 1);
  EXPECT_GE(before.samples.at("nds_leader_changes_total"), 1);
  EXPECT_GT(before.samples.at("process_resident_memory_bytes"), 0);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(http.Request("PUT", fmt::format("/store/load{}", i), "v").status, 201);
  }
  const Scrape after = ParseMetrics(http.Request("GET", "/metrics").body);
  for (const char* name : {"nds_commit_index", "nds_applied_index", "nds_wal_fsync_seconds_count",
                           "nds_apply_seconds_count"}) {
    EXPECT_GE(after.samples.at(name), before.samples.at(name) + 50) << name;
  }
  EXPECT_GE(after.samples.at("nds_http_requests_total{route=\"store_put\",code=\"2xx\"}"), 50);
}

TEST_F(OpsTest, EveryJsonOutputOfTheCliParses) {
  std::string out;
  ASSERT_EQ(Nds("put ops/k v -o json", &out), 0) << out;
  EXPECT_TRUE(nlohmann::json::parse(out)["revision"].is_number_unsigned()) << out;
  for (const char* command :
       {"status -o json", "status --json", "status --cluster -o json", "members -o json",
        "role -o json", "keys -o json", "keys --prefix nothing/ -o json"}) {
    ASSERT_EQ(Nds(command, &out), 0) << command << ": " << out;
    auto j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << command << ": " << out;
  }
  ASSERT_EQ(Nds("members -o json", &out), 0);
  auto members = nlohmann::json::parse(out);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0]["leader"], true);
  ASSERT_EQ(Nds("status --cluster -o json", &out), 0);
  auto cluster = nlohmann::json::parse(out);
  ASSERT_EQ(cluster.size(), 1u);
  EXPECT_EQ(cluster[0]["role"], "leader");
  ASSERT_EQ(Nds("keys --prefix ops/ -o json", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::array({"ops/k"}));
  ASSERT_EQ(Nds("members -o table", &out), 0);
  EXPECT_NE(out.find("LEADER"), std::string::npos) << out;
}

TEST_F(OpsTest, ExitStatusesTellNotFoundFromUsage) {
  std::string out;
  EXPECT_EQ(Nds("get ops/missing", &out), 3) << out;
  EXPECT_EQ(Nds("leave abc", &out), 2) << out;
  EXPECT_NE(out.find("must be a member id"), std::string::npos) << out;
  EXPECT_EQ(Nds("leave 999999", &out), 3) << out;
  EXPECT_EQ(Nds("set " + std::string(300, 'x'), &out), 2) << out;
  EXPECT_EQ(Nds("members -o yaml", &out), 2) << out;
}

TEST_F(OpsTest, EveryFamilyTheGrafanaDashboardUsesIsServed) {
  const std::string dashboard =
      ReadFile(std::string(NDS_SOURCE_DIR) + "/docs/grafana/nds-dashboard.json");
  ASSERT_FALSE(nlohmann::json::parse(dashboard, nullptr, false).is_discarded());
  RawHttp http(node_->port());
  const Scrape scrape = ParseMetrics(http.Request("GET", "/metrics").body);
  std::set<std::string> used;
  for (size_t pos = 0; pos < dashboard.size(); ++pos) {
    for (std::string_view prefix : {"nds_", "process_"}) {
      if (dashboard.compare(pos, prefix.size(), prefix) != 0) continue;
      if (pos > 0 && (std::isalnum(static_cast<unsigned char>(dashboard[pos - 1])) ||
                      dashboard[pos - 1] == '_')) {
        continue;
      }
      size_t end = pos;
      while (end < dashboard.size() &&
             (std::islower(static_cast<unsigned char>(dashboard[end])) || dashboard[end] == '_')) {
        ++end;
      }
      std::string name = dashboard.substr(pos, end - pos);
      if (name.ends_with("_bucket")) name.resize(name.size() - 7);
      used.insert(name);
    }
  }
  EXPECT_GE(used.size(), 10u);
  for (const std::string& family : used) EXPECT_TRUE(scrape.type.contains(family)) << family;
}

TEST_F(OpsTest, TheRootAnswersAPointerNotA404) {
  RawHttp http(node_->port());
  const HttpAnswer a = http.Request("GET", "/");
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("docs/api.md"), std::string::npos) << a.body;
}

}  // namespace
}  // namespace nds::test

namespace nds::test {
namespace {

TEST_F(OpsTest, EveryLongLivedThreadOfTheNodeIsNamed) {
  ASSERT_GT(node_->pid(), 0);
  // A write first: every part of the write path has run at least once.
  RawHttp http(node_->port());
  HttpAnswer put = http.Request("PUT", "/store/threads", "v");
  ASSERT_EQ(put.status / 100, 2) << put.body;
  std::multiset<std::string> names;
  const std::string tasks = fmt::format("/proc/{}/task", node_->pid());
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::string name = ReadFile(task.path().string() + "/comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    names.insert(name);
  }
  std::string all;
  for (const std::string& n : names) all += n + " ";
  for (const char* want : {"nds-raft", "nds-log-writer", "nds-apply", "nds-http-io", "nds-resp-io",
                           "nds-peer-io", "nds-watch", "nds-leases", "nds-trim"}) {
    EXPECT_TRUE(names.contains(want)) << "no thread named " << want << " among: " << all;
  }
}

}  // namespace
}  // namespace nds::test

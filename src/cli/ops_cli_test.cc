// Goal: the operator-facing pieces of the `nds` binary that need no running node: JSON log lines
// (log_setup.h), aligned tables (output_format.h), and `nds start --print-config`, whose values
// come from the command line, then NDS_<FLAG> variables, then the --config TOML file.
// Method: the pure helpers called directly; the built binary (NDS_BINARY) run through the shell
// with a config file and environment variables of the test's choosing.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "cli/log_setup.h"
#include "cli/output_format.h"
#include "cli/start_flags.h"
#include "client/fake_http_server.h"

namespace nds::cli {
namespace {

TEST(JsonLogLine, CarriesTsLevelMsgAndKeyValueWordsAsFields) {
  const std::string line =
      FormatJsonLogLine("2026-01-01T00:00:00.000000Z", "info",
                        "member 2 ('n\"2') is the leader event=leader_changed leader=2 term=7, "
                        "name=x=y Bad=1 =3 msg=spoof");
  ASSERT_TRUE(line.ends_with("\n"));
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"].get<std::string>().substr(0, 10), "member 2 (");
  EXPECT_EQ(j["event"], "leader_changed");
  EXPECT_EQ(j["leader"], 2u);
  EXPECT_EQ(j["term"], 7u);  // trailing punctuation dropped, digits become a number
  EXPECT_EQ(j["name"], "x=y");
  EXPECT_FALSE(j.contains("Bad"));
  EXPECT_NE(j["msg"], "spoof");  // a field never replaces ts, level or msg
}

TEST(JsonLogLine, InvalidUtf8StaysOneValidJsonLine) {
  const std::string line = FormatJsonLogLine("t", "warn", "bad \xff byte\nnext");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded());
}

TEST(Table, ColumnsAlignUnderTheHeaderAndMissingCellsShowADash) {
  EXPECT_EQ(RenderTable({"ID", "NAME"}, {{"1", "alpha"}, {"22"}}), "ID  NAME\n1   alpha\n22  -\n");
  EXPECT_FALSE(ParseOutputFormat("yaml").ok());
  EXPECT_TRUE(ParseOutputFormat("table").ok());
}

TEST(FlagEnv, EveryLongFlagHasItsVariable) {
  EXPECT_EQ(FlagEnvName("--max-value-bytes"), "NDS_MAX_VALUE_BYTES");
  EXPECT_EQ(FlagEnvName("name"), "NDS_NAME");
}

class PrintConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/nds_ops_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (const char* f : {"/nds.toml", "/out"}) std::remove((dir_ + f).c_str());
    rmdir(dir_.c_str());
  }
  // Runs `env ENV nds start ARGS --print-config`; returns the exit status, stdout+stderr in out_.
  int Run(const std::string& env, const std::string& args) {
    const std::string command = fmt::format(
        "env -u NDS_NAME -u NDS_MAX_VALUE_BYTES -u NDS_IO_THREADS {} '{}' start {} "
        "--print-config >'{}/out' 2>&1",
        env, NDS_BINARY, args, dir_);
    const int raw = std::system(command.c_str());
    std::ifstream in(dir_ + "/out");
    std::ostringstream s;
    s << in.rdbuf();
    out_ = s.str();
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  std::string dir_;
  std::string out_;
};

TEST_F(PrintConfig, CommandLineBeatsEnvironmentBeatsFile) {
  std::ofstream(dir_ + "/nds.toml")
      << "name = \"from-file\"\nmax_value_bytes = 1111\nio-threads = 3\nlease-reads = true\n";
  const std::string config = fmt::format("--config '{}/nds.toml'", dir_);
  ASSERT_EQ(Run("", config), 0) << out_;
  EXPECT_NE(out_.find("name = \"from-file\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("max-value-bytes = 1111\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("lease-reads = true\n"), std::string::npos) << out_;
  ASSERT_EQ(Run("NDS_NAME=from-env NDS_MAX_VALUE_BYTES=2222", config), 0) << out_;
  EXPECT_NE(out_.find("name = \"from-env\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("max-value-bytes = 2222\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("io-threads = 3\n"), std::string::npos) << out_;  // only in the file
  ASSERT_EQ(Run("NDS_NAME=from-env NDS_MAX_VALUE_BYTES=2222", config + " --name from-cli"), 0)
      << out_;
  EXPECT_NE(out_.find("name = \"from-cli\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("max-value-bytes = 2222\n"), std::string::npos) << out_;
}

TEST_F(PrintConfig, TheOutputReadsBackAndBadInputIsAUsageError) {
  ASSERT_EQ(Run("NDS_IO_THREADS=5", "--name back"), 0) << out_;
  std::ofstream(dir_ + "/nds.toml") << out_;
  ASSERT_EQ(Run("", fmt::format("--config '{}/nds.toml'", dir_)), 0) << out_;
  EXPECT_NE(out_.find("name = \"back\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("io-threads = 5\n"), std::string::npos) << out_;
  std::ofstream(dir_ + "/nds.toml", std::ios::trunc) << "no-such-flag = 1\n";
  EXPECT_EQ(Run("", fmt::format("--config '{}/nds.toml'", dir_)), 2) << out_;
  EXPECT_EQ(Run("", fmt::format("--config '{}/missing.toml'", dir_)), 2) << out_;
  EXPECT_EQ(Run("NDS_MAX_VALUE_BYTES=0", ""), 2) << out_;  // the same checks as the flag
  EXPECT_EQ(Run("", "--log-level loud"), 2) << out_;
}

// Issue #15: `--timeout 1` waited three tries (3 s) and then said "within 1000 ms". Now the
// timeout bounds the whole command: one try against a server that never answers, and the message
// names that timeout.
TEST(Timeout, BoundsTheWholeCommandAndTheMessageSaysSo) {
  client::testing::FakeHttpServer server([](const client::testing::RecordedRequest&) {
    return client::testing::FakeReply::Of(client::testing::FakeReply::Action::kNeverReply);
  });
  const std::string out_file = ::testing::TempDir() + "/nds_ops_timeout.out";
  const std::string command = fmt::format("'{}' --timeout 0.3 role --server {} >'{}' 2>&1",
                                          NDS_BINARY, server.address().ToString(), out_file);
  const int raw = std::system(command.c_str());
  std::ifstream in(out_file);
  std::ostringstream s;
  s << in.rdbuf();
  std::remove(out_file.c_str());
  EXPECT_EQ(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 4) << s.str();
  EXPECT_NE(s.str().find("within 300 ms"), std::string::npos) << s.str();
  EXPECT_EQ(server.requests().size(), 1u) << s.str();
}

// Runs `nds start` with a bad --api on a pseudo-terminal (script(1)), so that colour is possible;
// returns what it printed.
std::string StartOnATerminal(const std::string& env) {
  const std::string out_file = ::testing::TempDir() + "/nds_ops_color.out";
  const std::string command = fmt::format(
      "script -qec \"env {} '{}' start --data /nonexistent/nds --api nonsense\" /dev/null "
      ">'{}' 2>&1",
      env, NDS_BINARY, out_file);
  EXPECT_NE(std::system(command.c_str()), -1);
  std::ifstream in(out_file);
  std::ostringstream s;
  s << in.rdbuf();
  std::remove(out_file.c_str());
  return s.str();
}

TEST(NoColor, ATerminalGetsColourUnlessNoColorIsSet) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
  const std::string coloured = StartOnATerminal("-u NO_COLOR");
  ASSERT_NE(coloured.find("--api must be HOST:PORT"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b["), std::string::npos) << coloured;
  const std::string plain = StartOnATerminal("NO_COLOR=1");
  ASSERT_NE(plain.find("--api must be HOST:PORT"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\x1b["), std::string::npos) << plain;
}

}  // namespace
}  // namespace nds::cli

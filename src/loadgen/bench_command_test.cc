// Goal: `nds bench` as registered in the nds binary (cli/bench_command.cc) takes its servers from
// the global --server flag or NDS_SERVER, runs, and exits 0, 1 or 2 as docs/benchmarks.md says.
// Method: build a CLI11 app shaped like nds_main.cc's (a global, fall-through --server), register
// the command, and parse command lines in death-test children (the command ends the process with
// std::exit), against the in-test HTTP server.
#include "cli/bench_command.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "loadgen/test_http_server.h"

namespace nds::loadgen {
namespace {

std::optional<std::string> Ok(const TestRequest&) {
  return std::string("HTTP/1.1 204 No Content\r\n\r\n");
}

// Parses `args` like `nds ARGS...` with an nds-like app; returns only on a parse error.
void RunNds(const std::vector<std::string>& args, bool global_server_flag) {
  CLI::App app("nds", "nds");
  std::string servers = "localhost:7777";
  if (global_server_flag) {
    app.fallthrough();
    app.add_option("--server", servers)->envname("NDS_SERVER")->capture_default_str();
  }
  cli::RegisterBenchCommand(app);
  std::vector<const char*> argv{"nds"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  std::exit(99);  // the bench callback did not run
}

class BenchCommandDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BenchCommandDeathTest, GlobalServerFlagAfterTheSubcommandIsUsed) {
  TestHttpServer server(Ok);
  EXPECT_EXIT(RunNds({"bench", "-n", "10", "-c", "2", "--server", server.address()}, true),
              testing::ExitedWithCode(0), "");
}

TEST_F(BenchCommandDeathTest, NdsServerEnvironmentVariableIsUsed) {
  TestHttpServer server(Ok);
  EXPECT_EXIT(
      {
        setenv("NDS_SERVER", server.address().c_str(), 1);
        RunNds({"bench", "-n", "10", "-c", "2", "--json"}, true);
      },
      testing::ExitedWithCode(0), "");
}

TEST_F(BenchCommandDeathTest, WithoutAGlobalFlagTheCommandHasItsOwnServerFlag) {
  TestHttpServer server(Ok);
  EXPECT_EXIT(RunNds({"bench", "-n", "10", "-c", "2", "--server", server.address()}, false),
              testing::ExitedWithCode(0), "");
}

TEST_F(BenchCommandDeathTest, UnboundedRunIsAUsageError) {
  EXPECT_EXIT(RunNds({"bench", "-w", "put"}, true), testing::ExitedWithCode(2),
              "nds bench: give --duration or --ops");
}

TEST_F(BenchCommandDeathTest, NoReachableServerIsAnError) {
  uint16_t port = 0;
  {
    TestHttpServer closed(Ok);
    port = closed.port();
  }
  EXPECT_EXIT(RunNds({"bench", "-n", "5", "-c", "1", "--reconnects", "1", "--server",
                      fmt::format("127.0.0.1:{}", port)},
                     true),
              testing::ExitedWithCode(1), "no operation succeeded");
}

}  // namespace
}  // namespace nds::loadgen

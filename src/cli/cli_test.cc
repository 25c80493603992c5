// Goal: the `nds` binary's client subcommands behave as docs/cli.md says: --help and --version
// work everywhere, bad command lines exit 2 with one line on stderr, an unreachable cluster
// gives the actionable "cannot reach" line and exit 1, and put/get move bytes (NUL included)
// between stdin/stdout and the right HTTP requests. Method: the built binary (NDS_BINARY) run
// through the shell with files for stdin/stdout/stderr, against closed ports and the scripted
// fake server of client/fake_http_server.h; plus direct tests of terminal_io's pure helpers.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "cli/terminal_io.h"
#include "client/fake_http_server.h"

namespace nds::cli {
namespace {

using namespace std::string_literals;
using client::testing::ClosedPort;
using client::testing::FakeHttpServer;
using client::testing::FakeReply;
using client::testing::RecordedRequest;

struct RunResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class NdsBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/nds_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (const char* f : {"/in", "/out", "/err"}) std::remove((dir_ + f).c_str());
    rmdir(dir_.c_str());
  }

  // Runs `nds ARGS` (ARGS already shell-quoted) with `input` on stdin and `env` prefixed.
  RunResult Run(const std::string& args, const std::string& input = "",
                const std::string& env = "env -u NDS_SERVER") {
    std::ofstream(dir_ + "/in", std::ios::binary) << input;
    const std::string command = fmt::format("{} '{}' {} <'{}/in' >'{}/out' 2>'{}/err'", env,
                                            NDS_BINARY, args, dir_, dir_, dir_);
    const int raw = std::system(command.c_str());
    RunResult r;
    r.exit_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = ReadFile(dir_ + "/out");
    r.err = ReadFile(dir_ + "/err");
    return r;
  }

  std::string dir_;
};

TEST_F(NdsBinary, HelpListsTheSubcommandsAndExitsZero) {
  const RunResult r = Run("--help");
  EXPECT_EQ(r.exit_status, 0);
  for (const char* sub : {"set", "read", "put", "get", "rm", "keys", "status", "role", "members",
                          "leave", "secret", "start", "--server", "--timeout"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
  }
}

TEST_F(NdsBinary, EverySubcommandHasHelp) {
  for (const char* sub : {"set", "read", "put", "get", "rm", "keys", "status", "role", "members",
                          "leave", "secret", "secret store", "secret retrieve"}) {
    const RunResult r = Run(fmt::format("{} --help", sub));
    EXPECT_EQ(r.exit_status, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_NE(Run("put --help").out.find("--if-match"), std::string::npos);
}

TEST_F(NdsBinary, VersionPrintsTheVersion) {
  const RunResult r = Run("--version");
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.out, fmt::format("nds {}\n", NDS_VERSION));
}

TEST_F(NdsBinary, UsageErrorsExitTwoWithOneLine) {
  for (const char* args : {"", "put", "put onlykey", "frobnicate", "get k --timeout 0",
                           "get k --server nohost", "secret", "rm k --if-match abc"}) {
    const RunResult r = Run(args);
    EXPECT_EQ(r.exit_status, 2) << args;
    EXPECT_TRUE(r.err.starts_with("nds: ")) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

// Issue 11: flag errors read "Value 0 not in range 0.000000 to 1797693...", and a timeout past
// the clock's range was accepted and cut every connection at once. Each case below names the
// flag, echoes the value and gives the range in words. `--api bad` makes a `start` that wrongly
// passed validation stop at once (exit 2 without the expected line) instead of running a node.
TEST_F(NdsBinary, NumericFlagErrorsNameTheFlagTheValueAndTheRange) {
  const std::pair<const char*, const char*> cases[] = {
      {"start --api bad --idle-timeout-ms 0",
       "--idle-timeout-ms: 0 is out of range; give 1 to 86400000 (1 day)"},
      {"start --api bad --header-read-timeout-ms 9300000000000",
       "--header-read-timeout-ms: 9300000000000 is out of range; give 1 to 86400000 (1 day)"},
      {"start --api bad --election-timeout-ms 60001",
       "--election-timeout-ms: 60001 is out of range; give 1 to 60000 (1 minute)"},
      {"start --api bad --max-connections abc",
       "--max-connections: 'abc' is not a whole number; give 1 to 1000000000 (one billion)"},
      {"start --api bad --max-value-bytes 99999999999999999999999",
       "--max-value-bytes: 99999999999999999999999 is out of range; give 1 to 1099511627776 "
       "(1 TiB)"},
      {"start --api bad --max-value-bytes -1",
       "--max-value-bytes: -1 is out of range; give 1 to 1099511627776 (1 TiB)"},
      {"start --api bad --io-threads 65", "--io-threads: 65 is out of range; give 1 to 64"},
      {"start --api bad --resp-threads 0", "--resp-threads: 0 is out of range; give 1 to 64"},
      {"start --api bad --max-token-cache-names 0",
       "--max-token-cache-names: 0 is out of range; give 1 to 1000000000 (one billion)"},
      {"start --api bad --max-provisional-peers 1000000001",
       "--max-provisional-peers: 1000000001 is out of range; give 1 to 1000000000 (one billion)"},
      {"status --timeout 0", "--timeout: 0 is out of range; give 0.001 to 3600 (1 hour)"},
      {"status --timeout 1e400", "--timeout: 1e400 is out of range; give 0.001 to 3600 (1 hour)"},
      {"demo --nodes 8", "--nodes: 8 is out of range; give 1 to 7"},
      {"check --local 3 --clients 0", "--clients: 0 is out of range; give 1 to 64"},
      {"bench -n 10 --keys 0", "--keys: 0 is out of range; give 1 to 100000000"},
      {"bench -n 10 --request-timeout 1e9",
       "--request-timeout: 1e9 is out of range; give 0.001 to 3600 (1 hour)"},
  };
  for (const auto& [args, expected] : cases) {
    const RunResult r = Run(args);
    EXPECT_EQ(r.exit_status, 2) << args;
    EXPECT_NE(r.err.find(expected), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

TEST_F(NdsBinary, LargestAcceptedDurationPassesFlagParsing) {
  // At the bound the flag is accepted: the run gets as far as the --api check.
  const RunResult r =
      Run("start --api bad --idle-timeout-ms 86400000 --heartbeat-ms 1000 "
          "--election-timeout-ms 60000 --lease-ms 30000");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE((r.out + r.err).find("--api must be HOST:PORT"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.err.find("out of range"), std::string::npos) << r.err;
}

TEST_F(NdsBinary, UnreachableClusterSaysWhatToDo) {
  const uint16_t port = ClosedPort();
  const std::string expected = fmt::format(
      "nds: cannot reach 127.0.0.1:{} (connection refused); start a node with 'nds start' or set "
      "--server\n",
      port);
  const RunResult by_flag = Run(fmt::format("get k --server 127.0.0.1:{}", port));
  EXPECT_EQ(by_flag.exit_status, 4);
  EXPECT_EQ(by_flag.err, expected);
  const RunResult by_env = Run("role", "", fmt::format("env NDS_SERVER=127.0.0.1:{}", port));
  EXPECT_EQ(by_env.exit_status, 4);
  EXPECT_EQ(by_env.err, expected);
}

TEST_F(NdsBinary, PutFromStdinAndGetMoveExactBytes) {
  std::string stored;
  FakeHttpServer server([&stored](const RecordedRequest& r) {
    if (r.method == "PUT") {
      stored = r.body;
      return FakeReply::Status(201).With("X-Revision", "42");
    }
    return FakeReply::Status(200, stored).With("ETag", "\"42\"");
  });
  const std::string flag = "--server " + server.address().ToString();
  const std::string value = "bin\x00\xff\n\x01tail"s;
  const RunResult put = Run(fmt::format("put 'a b/c' - --content-type text/x {}", flag), value);
  EXPECT_EQ(put.exit_status, 0) << put.err;
  EXPECT_EQ(put.out, "42\n");
  EXPECT_EQ(server.last_request().target, "/store/a%20b/c");
  EXPECT_EQ(server.last_request().Header("content-type"), "text/x");
  EXPECT_EQ(stored, value);
  const RunResult get = Run(fmt::format("get 'a b/c' {}", flag));
  EXPECT_EQ(get.exit_status, 0) << get.err;
  EXPECT_EQ(get.out, value);
}

// Issue 15: `nds put k /etc/hostname` stored the path while `secret store ID FILE` read the file.
// An argument is now always the value; a file's content comes with --file; a value that names a
// file is stored as given, with a note; -o json on get carries the revision and exact bytes.
TEST_F(NdsBinary, PutTakesAFileOnlyWithFileAndGetPrintsJson) {
  std::string stored;
  FakeHttpServer server([&stored](const RecordedRequest& r) {
    if (r.method == "PUT") {
      stored = r.body;
      return FakeReply::Status(201).With("X-Revision", "7");
    }
    return FakeReply::Status(200, stored).With("ETag", "\"7\"").With("Content-Type", "text/x");
  });
  const std::string flag = "--server " + server.address().ToString();
  const std::string file = dir_ + "/in";  // Run writes its stdin there
  const std::string content = "file\x00content\xff"s;

  RunResult by_file = Run(fmt::format("put k --file '{}' {}", file, flag), content);
  EXPECT_EQ(by_file.exit_status, 0) << by_file.err;
  EXPECT_EQ(stored, content);

  RunResult literal = Run(fmt::format("put k '{}' {}", file, flag), content);
  EXPECT_EQ(literal.exit_status, 0) << literal.err;
  EXPECT_EQ(stored, file);  // the text, as given
  EXPECT_NE(literal.err.find("--file"), std::string::npos) << literal.err;

  RunResult both = Run(fmt::format("put k v --file '{}' {}", file, flag));
  EXPECT_EQ(both.exit_status, 2) << both.err;
  RunResult neither = Run(fmt::format("put k {}", flag));
  EXPECT_EQ(neither.exit_status, 2) << neither.err;
  EXPECT_TRUE(neither.err.starts_with("nds: ")) << neither.err;

  stored = "caf\xc3\xa9";
  RunResult text = Run(fmt::format("get k -o json {}", flag));
  ASSERT_EQ(text.exit_status, 0) << text.err;
  auto j = nlohmann::json::parse(text.out);
  EXPECT_EQ(j["revision"], 7);
  EXPECT_EQ(j["value"], "caf\xc3\xa9");
  EXPECT_EQ(j["value_base64"], "Y2Fmw6k=");
  EXPECT_EQ(j["content_type"], "text/x");
  stored = "\xff\x00"s;
  RunResult binary = Run(fmt::format("get k -o json {}", flag));
  ASSERT_EQ(binary.exit_status, 0) << binary.err;
  j = nlohmann::json::parse(binary.out);
  EXPECT_FALSE(j.contains("value"));
  EXPECT_EQ(j["value_base64"], "/wA=");
  EXPECT_EQ(j["size_bytes"], 2);
}

TEST_F(NdsBinary, TokenCommandsSendTheTokenFromAFileOrTheEnvironment) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.Header("authorization").empty()) {
      return FakeReply::Status(401, R"({"error":"unauthenticated","message":"no token"})");
    }
    if (r.method == "POST") return FakeReply::Status(201, R"({"name":"ci","token":"ci.new"})");
    if (r.method == "DELETE") return FakeReply::Status(204);
    return FakeReply::Status(200, R"({"tokens":[{"name":"ci","role":"read","prefix":"p/"}]})");
  });
  const std::string flag = "--server " + server.address().ToString();
  std::ofstream(dir_ + "/tok") << "root.from-file\nignored second line\n";
  const RunResult create = Run(
      fmt::format("token create ci --role read --prefix p/ --token-file '{}/tok' {}", dir_, flag));
  EXPECT_EQ(create.exit_status, 0) << create.err;
  EXPECT_EQ(create.out, "ci.new\n");
  EXPECT_EQ(server.last_request().Header("authorization"), "Bearer root.from-file");
  const RunResult list =
      Run(fmt::format("token list {}", flag), "", "env -u NDS_SERVER NDS_AUTH_TOKEN=root.env");
  EXPECT_EQ(list.exit_status, 0) << list.err;
  EXPECT_EQ(list.out, "ci\tread\t'p/'\n");
  EXPECT_EQ(server.last_request().Header("authorization"), "Bearer root.env");
  const RunResult revoke =
      Run(fmt::format("token revoke ci {}", flag), "", "env -u NDS_SERVER NDS_AUTH_TOKEN=r.x");
  EXPECT_EQ(revoke.exit_status, 0) << revoke.err;
  EXPECT_EQ(server.last_request().target, "/auth/tokens/ci");
  const RunResult refused =
      Run(fmt::format("token list {}", flag), "", "env -u NDS_SERVER -u NDS_AUTH_TOKEN");
  EXPECT_EQ(refused.exit_status, 1);
  EXPECT_NE(refused.err.find("no token"), std::string::npos) << refused.err;
  EXPECT_EQ(Run(fmt::format("token list --token-file '{}/missing' {}", dir_, flag)).exit_status, 2);
  EXPECT_EQ(Run(fmt::format("token create x --role root {}", flag)).exit_status, 2);
}

TEST_F(NdsBinary, SetReadAndMissingKeyUseTheKeyValueRoutes) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/get?k=default") return FakeReply::Status(200, "hello world");
    if (r.target.starts_with("/set")) return FakeReply::Status(200);
    return FakeReply::Status(404, R"({"error":"not_found","message":"key not found"})");
  });
  const std::string flag = "--server " + server.address().ToString();
  EXPECT_EQ(Run(fmt::format("set 'hello world' {}", flag)).exit_status, 0);
  EXPECT_EQ(server.last_request().target, "/set?k=default&v=hello+world");
  const RunResult read = Run("read " + flag);
  EXPECT_EQ(read.out, "hello world\n");
  const RunResult missing = Run("get nope " + flag);
  EXPECT_EQ(missing.exit_status, 3);
  EXPECT_EQ(missing.err, "nds: get 'nope': key not found\n");
}

TEST_F(NdsBinary, KeysPagesThroughEveryKeyAndLeaveUsesTheNodesOwnId) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target.starts_with("/keys") && r.target.find("after=") == std::string::npos) {
      return FakeReply::Status(200, R"({"keys":["cDE=","cDI="],"next":"cDI="})");
    }
    if (r.target.starts_with("/keys")) return FakeReply::Status(200, R"({"keys":["cDM="]})");
    if (r.target == "/status") return FakeReply::Status(200, R"({"id":5,"role":"follower"})");
    return FakeReply::Status(204);
  });
  const std::string flag = "--server " + server.address().ToString();
  const RunResult keys = Run("keys --prefix p " + flag);
  EXPECT_EQ(keys.exit_status, 0) << keys.err;
  EXPECT_EQ(keys.out, "p1\np2\np3\n");
  const RunResult leave = Run("leave " + flag);
  EXPECT_EQ(leave.exit_status, 0) << leave.err;
  EXPECT_EQ(server.last_request().method, "DELETE");
  EXPECT_EQ(server.last_request().target, "/cluster/members/5");
}

TEST_F(NdsBinary, SecretStorePrintsTheKeyAndRetrieveWritesThePlaintext) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.method == "POST") return FakeReply::Status(201, R"({"id":"db","key":"KEY123"})");
    return FakeReply::Status(200, "pw\x00"s);
  });
  const std::string flag = "--server " + server.address().ToString();
  const RunResult store = Run("secret store db " + flag, "pw\x00"s);
  EXPECT_EQ(store.exit_status, 0) << store.err;
  EXPECT_EQ(store.out, "KEY123\n");
  EXPECT_EQ(server.last_request().body, "pw\x00"s);
  const RunResult retrieve = Run("secret retrieve db KEY123 " + flag);
  EXPECT_EQ(retrieve.out, "pw\x00"s);
  EXPECT_EQ(server.last_request().Header("x-secret-key"), "KEY123");
}

TEST(ErrorLine, NamesTheActionAndAddsAdviceByCode) {
  EXPECT_EQ(ErrorLine("get 'k'", NotFound("key not found")), "nds: get 'k': key not found");
  EXPECT_EQ(ErrorLine("get 'k'", Unavailable("cannot reach h:1 (connection refused)")),
            "nds: cannot reach h:1 (connection refused); start a node with 'nds start' or set "
            "--server");
  EXPECT_EQ(ErrorLine("put", Unavailable("no quorum")), "nds: put: no quorum");
  EXPECT_NE(ErrorLine("put", Timeout("no reply")).find("--timeout"), std::string::npos);
  EXPECT_EQ(ErrorLine("x", IoError("two\nlines")), "nds: x: two lines");
}

TEST(ReadInput, RefusesInputOverTheLimitAndNamesTheFile) {
  char path[] = "/tmp/nds_cli_input.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  close(fd);
  EXPECT_EQ(ReadInput(path, 10).value(), "0123456789");
  const Status over = ReadInput(path, 9).status();
  EXPECT_EQ(over.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(over.message().find(path), std::string::npos);
  std::remove(path);
  EXPECT_EQ(ReadInput("/nonexistent/nds").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::cli

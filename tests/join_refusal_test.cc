// Goal: a node never mixes two clusters and never joins without the right token: a data
// directory of one cluster started with --join a member of another exits with an error naming
// both, and a join with a wrong token is refused (the joiner exits, the cluster is unchanged).
// Method: two one-node clusters of real processes on 127.0.0.1.
#include <filesystem>

#include <gtest/gtest.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

TEST(JoinRefusal, ADataDirectoryOfAnotherClusterAndAWrongTokenAreRefused) {
  NdsProcess a(MakeTempDir("cluster-a"), {"--token", "token-a"});
  ASSERT_TRUE(a.Start()) << a.error;
  std::string b_dir = MakeTempDir("cluster-b");
  {
    NdsProcess b(b_dir, {"--token", "token-b"});
    ASSERT_TRUE(b.Start()) << b.error;
    EXPECT_EQ(b.Stop(SIGTERM), 0);
  }
  NdsProcess b_again(b_dir, {"--join", a.address(), "--token", "token-a"});
  EXPECT_FALSE(b_again.Start(std::chrono::seconds(20)));
  EXPECT_NE(b_again.LogTail().find("refusing to mix them"), std::string::npos) << b_again.LogTail();

  std::string c_dir = MakeTempDir("wrong-token");
  NdsProcess c(c_dir,
               {"--join", a.address(), "--token", "not-the-token", "--join-timeout-ms", "2000"});
  EXPECT_FALSE(c.Start(std::chrono::seconds(20)));
  EXPECT_NE(c.LogTail().find("wrong join token"), std::string::npos) << c.LogTail();
  RawHttp http(a.port());
  std::string members = http.Request("GET", "/cluster/members").body;
  EXPECT_EQ(members.find("node1", members.find("node1") + 1), std::string::npos)
      << "a refused joiner was added: " << members;
  EXPECT_EQ(a.Stop(SIGTERM), 0);
  for (const std::string& d : {a.data_dir(), b_dir, c_dir}) {
    std::filesystem::remove_all(d);
    std::filesystem::remove(d + ".log");
  }
}

}  // namespace
}  // namespace nds::test

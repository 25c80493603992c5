// Goal: a full disk gives 507 to writes that cannot be made durable, the node stays up and serves
// reads, nothing already stored is lost, and writes work again once space is freed (API.md).
// Method: as root, the node's data directory is a small tmpfs filled with a ballast file; writes
// go until 507; the ballast is removed; writes succeed again (bounded retries). Skipped when the
// test cannot mount (not root).
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

class TmpfsDir {
 public:
  explicit TmpfsDir(size_t bytes) : path_(MakeTempDir("tmpfs")) {
    std::string opts = "size=" + std::to_string(bytes);
    mounted_ = geteuid() == 0 && mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~TmpfsDir() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST(DiskFull, WritesGet507ReadsGoOnAndWritesResumeWhenSpaceIsFreed) {
  TmpfsDir fs(64 << 20);
  if (!fs.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  std::string data = fs.path() + "/data";
  // Small Raft log segments and free-space reserve: the tmpfs is only 64 MiB.
  NdsProcess node(data, {"--max-value-bytes", "1048576", "--wal-segment-bytes", "2097152",
                         "--min-free-disk-bytes", "1048576"});
  ASSERT_TRUE(node.Start()) << node.error;
  RawHttp http(node.port());
  ASSERT_EQ(http.Request("PUT", "/store/before", "safe").status, 201);
  {
    // Leave about 8 MiB free.
    std::ofstream ballast(fs.path() + "/ballast", std::ios::binary);
    std::string mib(1 << 20, 'b');
    for (int i = 0; i < 52; ++i) ballast.write(mib.data(), mib.size());
  }
  std::string value(512 << 10, 'v');
  int last = 0;
  int written = 0;
  for (int i = 0; i < 200; ++i) {  // bounded: 100 MiB at most, far beyond the free space
    last = http.Request("PUT", "/store/fill" + std::to_string(i), value).status;
    if (last != 201) break;
    ++written;
  }
  EXPECT_EQ(last, 507) << node.LogTail();
  EXPECT_EQ(http.Request("GET", "/healthz").status, 200);
  EXPECT_EQ(http.Request("GET", "/store/before").body, "safe");
  if (written > 0) {
    EXPECT_EQ(http.Request("GET", "/store/fill0").body.size(), value.size());
  }

  std::filesystem::remove(fs.path() + "/ballast");
  int after = 0;
  for (int attempt = 0; attempt < 50 && after != 201 && after != 204; ++attempt) {
    after = http.Request("PUT", "/store/after", "ok").status;
    if (after != 201 && after != 204) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(after == 201 || after == 204) << after << node.LogTail();
  EXPECT_EQ(http.Request("GET", "/store/before").body, "safe");
  EXPECT_EQ(node.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace nds::test

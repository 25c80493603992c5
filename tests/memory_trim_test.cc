// The memory trimmer on a real node (util/memory_trimmer.h): once big writes pause, the node gives
// the heap memory it freed back to the kernel, and /metrics counts it.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

// The value of an unlabelled sample in a /metrics text, or -1 when it is missing.
double Metric(const std::string& text, const std::string& name) {
  const std::string line = "\n" + name + " ";
  const size_t at = text.find(line);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + line.size(), nullptr);
}

TEST(MemoryTrim, ANodeGivesFreedMemoryBackOnceBigWritesPause) {
#if defined(__SANITIZE_ADDRESS__)
  // The node is built with ASan too, whose allocator replaces glibc's arenas: nothing to trim.
  GTEST_SKIP() << "ASan replaces glibc's allocator";
#endif
  const std::string dir = MakeTempDir("memory-trim");
  NdsProcess node(dir, {"--memory-trim-interval-ms", "50", "--memory-trim-min-free-bytes",
                        std::to_string(1 << 20), "--max-value-bytes", std::to_string(4 << 20)});
  ASSERT_TRUE(node.Start()) << node.error;
  const std::string before = RawHttp(node.port()).Request("GET", "/metrics").body;
  const double trims_before = Metric(before, "nds_memory_trims_total");
  ASSERT_GE(trims_before, 0) << before;

  const std::string value(3 << 20, 'v');
  for (int i = 0; i < 8; ++i) {
    RawHttp put(node.port());
    ASSERT_EQ(put.Request("PUT", "/store/big/" + std::to_string(i), value).status / 100, 2);
  }
  // Within a bounded time (the trimmer looks every 50 ms) the pause is seen and a trim counted.
  std::string metrics;
  double trims = trims_before;
  for (int i = 0; i < 200 && trims <= trims_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    metrics = RawHttp(node.port()).Request("GET", "/metrics").body;
    trims = Metric(metrics, "nds_memory_trims_total");
  }
  EXPECT_GT(trims, trims_before) << metrics;
  EXPECT_GE(Metric(metrics, "nds_wal_entry_bytes_total"), 8.0 * (3 << 20)) << metrics;
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.LogTail();
}

}  // namespace
}  // namespace nds::test

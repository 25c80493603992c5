#include "util/memory_trimmer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace nds {
namespace {

struct FakeHeap {
  uint64_t free_bytes = 0;
  uint64_t activity = 0;
  int trims = 0;

  MemoryTrimmerHooks Hooks() {
    return {[this] { return free_bytes; },
            [this] {
              ++trims;
              return true;
            },
            [this] { return activity; }};
  }
};

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(MemoryTrimmer, TrimsOnceWhenABurstIsOverAndEnoughIsFree) {
  FakeHeap heap;
  MemoryTrimmer trimmer({std::chrono::milliseconds(1000), 64 * kMiB}, heap.Hooks());
  heap.free_bytes = 300 * kMiB;
  EXPECT_FALSE(trimmer.CheckOnce());  // the first look only takes the activity's baseline
  heap.activity += 16 * kMiB;         // a big value went through the log: busy
  EXPECT_FALSE(trimmer.CheckOnce());
  heap.activity += 16 * kMiB;
  EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_EQ(heap.trims, 0);
  heap.activity += 1000;  // small writes only: quiet
  EXPECT_TRUE(trimmer.CheckOnce());
  EXPECT_EQ(heap.trims, 1);
  // Still quiet: the free bytes stay as they were after a trim, but there is nothing new to give.
  EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_EQ(heap.trims, 1);
  // A new burst, then quiet again: one more trim.
  heap.activity += 64 * kMiB;
  EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_TRUE(trimmer.CheckOnce());
  EXPECT_EQ(heap.trims, 2);
}

TEST(MemoryTrimmer, LeavesASmallFreeListAlone) {
  FakeHeap heap;
  MemoryTrimmer trimmer({std::chrono::milliseconds(1000), 64 * kMiB}, heap.Hooks());
  heap.free_bytes = 64 * kMiB - 1;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_EQ(heap.trims, 0);
  heap.free_bytes = 64 * kMiB;
  EXPECT_TRUE(trimmer.CheckOnce());
}

TEST(MemoryTrimmer, CountsItsTrimsForMetrics) {
  FakeHeap heap;
  heap.free_bytes = 100 * kMiB;
  MemoryTrimmer trimmer({std::chrono::milliseconds(1000), 1}, heap.Hooks());
  const uint64_t before = MemoryTrimsTotal();
  trimmer.CheckOnce();
  ASSERT_TRUE(trimmer.CheckOnce());
  EXPECT_EQ(MemoryTrimsTotal(), before + 1);
}

TEST(MemoryTrimmer, StopsPromptlyWithALongInterval) {
  FakeHeap heap;
  MemoryTrimmer trimmer({std::chrono::milliseconds(86'400'000), 1}, heap.Hooks());
  trimmer.Start();
  trimmer.Stop();  // would hang for a day if the wait did not wake on Stop
  EXPECT_EQ(heap.trims, 0);
}

int64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return -1;
  long size = 0;
  long resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * ::sysconf(_SC_PAGESIZE) : -1;
}

// glibc's own arenas: memory freed in the middle of the heap stays resident until the trim.
TEST(MemoryTrimmer, GlibcHooksGiveFreedHeapMemoryBack) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan replaces glibc's allocator";
#endif
  constexpr size_t kChunk = 64 << 10;  // below glibc's mmap threshold: taken from the heap
  constexpr size_t kChunks = 512;      // 32 MiB
  std::vector<char*> chunks;
  for (size_t i = 0; i < kChunks; ++i) {
    chunks.push_back(static_cast<char*>(std::malloc(kChunk)));
    ASSERT_NE(chunks.back(), nullptr);
    std::memset(chunks.back(), static_cast<int>(i), kChunk);  // make the pages resident
  }
  // Keep every 32nd chunk so the freed ones cannot merge into the top of the heap (which glibc
  // gives back by itself).
  for (size_t i = 0; i < kChunks; ++i) {
    if (i % 32 != 31) {
      std::free(chunks[i]);
      chunks[i] = nullptr;
    }
  }
  uint64_t activity = 0;
  MemoryTrimmer trimmer({std::chrono::milliseconds(1000), 16 * kMiB},
                        GlibcTrimmerHooks([&] { return activity; }));
  const int64_t before = ResidentBytes();
  ASSERT_GT(before, 0);
  EXPECT_FALSE(trimmer.CheckOnce());
  EXPECT_TRUE(trimmer.CheckOnce());
  const int64_t after = ResidentBytes();
  EXPECT_GT(before - after, static_cast<int64_t>(16 * kMiB)) << before << " -> " << after;
  for (char* c : chunks) std::free(c);
}

}  // namespace
}  // namespace nds

// MemoryTrimmer: hands freed heap memory back to the kernel once a burst of big values is over.
//
// glibc keeps the buffers it frees in its arenas for reuse: after 16 concurrent 16 MB PUTs a node
// stayed at ~300 MB resident although it held almost nothing (docs/benchmarks.md, issue 17).
// Returning that memory on every free (a low M_MMAP_THRESHOLD) halved the speed of big writes,
// because every new buffer was faulted in afresh. So the trimmer waits for the burst to end: every
// interval it looks at the bytes free in the arenas and at an activity counter (the entry bytes the
// node wrote to its log and applied); when the free bytes reach `free_bytes_min` and less than
// `kQuietBytesPerCheck` of activity happened since the last look, it calls malloc_trim(0), once
// per quiet spell (the freed chunks stay in the arenas' lists after a trim, only their pages go
// back, so the free bytes it reads do not fall; it trims again after activity resumed).
//
// Thread-safe: Start() once; Stop() (or the destructor) joins the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "util/thread_annotations.h"

namespace nds {

// Activity below this between two looks counts as quiet (small writes go on while trimming).
inline constexpr uint64_t kQuietBytesPerCheck = uint64_t{1} << 20;

struct MemoryTrimmerOptions {
  std::chrono::milliseconds interval{1'000};     // --memory-trim-interval-ms
  uint64_t free_bytes_min = uint64_t{64} << 20;  // --memory-trim-min-free-bytes
};

// What the trimmer reads and does; the defaults are glibc's (mallinfo2, malloc_trim). Tests
// inject their own.
struct MemoryTrimmerHooks {
  std::function<uint64_t()> free_bytes;  // bytes free inside the allocator's arenas
  std::function<bool()> trim;            // true when memory went back to the kernel
  std::function<uint64_t()> activity;    // a counter that grows while big data moves
};
MemoryTrimmerHooks GlibcTrimmerHooks(std::function<uint64_t()> activity);

// Trims performed by any MemoryTrimmer of this process since start (for /metrics).
uint64_t MemoryTrimsTotal();

class MemoryTrimmer {
 public:
  MemoryTrimmer(MemoryTrimmerOptions options, MemoryTrimmerHooks hooks);
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  void Start();
  void Stop();
  // One look now (the thread calls it every interval; tests call it directly). True when it
  // trimmed.
  bool CheckOnce();

 private:
  void Run();

  const MemoryTrimmerOptions options_;
  const MemoryTrimmerHooks hooks_;
  // Only the thread (or a test) touches these.
  std::optional<uint64_t> last_activity_;
  bool trimmed_while_quiet_ = false;
  Mutex mu_;
  std::condition_variable cv_;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace nds

// MemoryTrimmer (see memory_trimmer.h).
#include "util/memory_trimmer.h"

#include <atomic>
#include <malloc.h>
#include <utility>

#include "util/thread_name.h"

namespace nds {
namespace {

std::atomic<uint64_t> g_trims{0};

}  // namespace

MemoryTrimmerHooks GlibcTrimmerHooks(std::function<uint64_t()> activity) {
  MemoryTrimmerHooks hooks;
  // fordblks: the bytes of free chunks inside the arenas (mmapped chunks are not counted: glibc
  // returns those to the kernel when they are freed).
  hooks.free_bytes = [] { return static_cast<uint64_t>(::mallinfo2().fordblks); };
  hooks.trim = [] { return ::malloc_trim(0) != 0; };
  hooks.activity = std::move(activity);
  return hooks;
}

uint64_t MemoryTrimsTotal() { return g_trims.load(std::memory_order_relaxed); }

MemoryTrimmer::MemoryTrimmer(MemoryTrimmerOptions options, MemoryTrimmerHooks hooks)
    : options_(options), hooks_(std::move(hooks)) {}

MemoryTrimmer::~MemoryTrimmer() { Stop(); }

void MemoryTrimmer::Start() {
  thread_ = std::thread([this] {
    NameThisThread("nds-trim");
    Run();
  });
}

void MemoryTrimmer::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool MemoryTrimmer::CheckOnce() {
  const uint64_t activity = hooks_.activity();
  const bool quiet = last_activity_.has_value() && activity >= *last_activity_ &&
                     activity - *last_activity_ < kQuietBytesPerCheck;
  last_activity_ = activity;
  if (!quiet) {
    trimmed_while_quiet_ = false;
    return false;
  }
  if (trimmed_while_quiet_ || hooks_.free_bytes() < options_.free_bytes_min) return false;
  trimmed_while_quiet_ = true;
  if (!hooks_.trim()) return false;
  g_trims.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void MemoryTrimmer::Run() {
  MutexLock lock(mu_);
  while (!stopping_) {
    const auto deadline = std::chrono::steady_clock::now() + options_.interval;
    while (!stopping_ && lock.WaitUntil(cv_, deadline)) {
    }
    if (stopping_) break;
    CheckOnce();
  }
}

}  // namespace nds

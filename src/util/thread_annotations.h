// Clang thread-safety annotations (no-ops under g++; the thread-safety preset, clang++ with
// -Wthread-safety, checks them in CI). Guard every mutex-guarded member with NDS_GUARDED_BY(mu_)
// where mu_ is an nds::Mutex or nds::SharedMutex, and lock it with MutexLock / ReaderLock /
// WriterLock: std::mutex and std::lock_guard carry no annotations in libstdc++, so clang cannot
// see that they lock anything.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define NDS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define NDS_THREAD_ANNOTATION(x)
#endif

#define NDS_CAPABILITY(x) NDS_THREAD_ANNOTATION(capability(x))
#define NDS_SCOPED_CAPABILITY NDS_THREAD_ANNOTATION(scoped_lockable)
#define NDS_GUARDED_BY(x) NDS_THREAD_ANNOTATION(guarded_by(x))
#define NDS_PT_GUARDED_BY(x) NDS_THREAD_ANNOTATION(pt_guarded_by(x))
#define NDS_REQUIRES(...) NDS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define NDS_REQUIRES_SHARED(...) NDS_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define NDS_EXCLUDES(...) NDS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NDS_ACQUIRE(...) NDS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define NDS_ACQUIRE_SHARED(...) NDS_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define NDS_RELEASE(...) NDS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NDS_RELEASE_SHARED(...) NDS_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define NDS_RELEASE_GENERIC(...) NDS_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define NDS_TRY_ACQUIRE(...) NDS_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define NDS_NO_THREAD_SAFETY_ANALYSIS NDS_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace nds {

// std::mutex with the capability annotation. Thread-safe; not recursive.
class NDS_CAPABILITY("mutex") Mutex {
 public:
  void lock() NDS_ACQUIRE() { mu_.lock(); }
  void unlock() NDS_RELEASE() { mu_.unlock(); }
  bool try_lock() NDS_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds a Mutex for its scope; the only way to wait on a condition variable under it.
class NDS_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) NDS_ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() NDS_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Unlocks, waits for a notification (or a spurious wake-up) and locks again. Callers loop on
  // their condition, which they read with the mutex held.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // As Wait; false when `deadline` passed first.
  template <class Clock, class Duration>
  bool WaitUntil(std::condition_variable& cv,
                 const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

// std::shared_mutex with the capability annotation: one writer or many readers.
class NDS_CAPABILITY("mutex") SharedMutex {
 public:
  void lock() NDS_ACQUIRE() { mu_.lock(); }
  void unlock() NDS_RELEASE() { mu_.unlock(); }
  void lock_shared() NDS_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() NDS_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a SharedMutex exclusively for its scope.
class NDS_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) NDS_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() NDS_RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Holds a SharedMutex shared for its scope.
class NDS_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) NDS_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() NDS_RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace nds

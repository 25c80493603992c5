// The watch hub: fans the change history (store/history.h) that this node applies out to the
// watchers of GET /watch (docs/api.md "Watch").
//
// One dispatcher thread per node takes each newly applied revision range once and hands every
// event to the watchers whose key or prefix it matches, into each watcher's bounded
// buffer (events are shared, not copied, between watchers). While there are watchers, the apply
// keeps each batch's events in memory and hands them over with NotifyApplied (CaptureBytes says
// how much); a range that did not come that way (too big, a snapshot, the hub's queue full) is
// read back from the engine's history instead. The watchers of one key are found by
// a lookup per event, so thousands of them cost little more than one. A watcher that asked for
// older revisions first reads them from the history itself (Watcher::Next, on the caller's thread),
// then continues from its buffer. A watcher whose buffer would exceed --watch-buffer-bytes is cut
// off (it gets an error and may resume from its last revision); the dispatcher never waits for a
// watcher, so slow watchers slow neither writers nor other watchers. The apply loop only calls
// NotifyApplied, which wakes the dispatcher.
//
// Thread-safety: WatchHub and Watcher are thread-safe. Stop() must run before the engine dies.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/watch_event.h"
#include "engine/engine.h"
#include "store/history.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::api {

struct WatchHubOptions {
  size_t buffer_bytes = 4 << 20;  // --watch-buffer-bytes
  size_t watchers_max = 10'000;   // --max-watchers
  // A watcher with nothing to send gets a progress line this often (API.md: at least every 5 s).
  std::chrono::milliseconds progress_interval{1000};
  // Events read from the history in one step (dispatcher page, catch-up page).
  size_t page_bytes = 256 << 10;
};

// Which keys a watcher wants: one key exactly, or every key starting with a prefix ("" = all).
struct WatchFilter {
  std::string key_or_prefix;
  bool exact = false;

  bool Matches(std::string_view key) const {
    return exact ? key == key_or_prefix : key.starts_with(key_or_prefix);
  }
};

class WatchHub;

// One watch. Created by WatchHub::Add; the route's stream calls Next until it ends.
class Watcher {
 public:
  // Why a watch ends early.
  struct Failure {
    std::string error;  // "compacted" or "too_slow" (the JSON "error" field)
    std::string message;
    uint64_t compact_revision = 0;  // for "compacted"
  };
  // What to send next: events (in revision order), else a progress revision, else a failure
  // (the last line), else nothing yet (wait: the hub calls the resume function given to Wait).
  struct Step {
    std::vector<SharedEvent> events;
    std::optional<uint64_t> progress;
    std::optional<Failure> failure;
  };

  Watcher(WatchFilter filter, uint64_t delivered, uint64_t live_from, size_t buffer_bytes_max);

  // The next thing to send. Reads older history from `engine` when catching up (a page at most).
  Step Next(const engine::Engine& engine, uint64_t dispatched, std::chrono::milliseconds progress,
            size_t page_bytes);
  // Arranges for `resume` to be called once there may be something to send (events, a failure,
  // or a progress line due). Calls it at once when there already is.
  void Wait(std::function<void()> resume, std::chrono::milliseconds progress);

  const WatchFilter& filter() const { return filter_; }

 private:
  friend class WatchHub;
  // Dispatcher side: adds the matching events (all of one revision range, in order). Returns
  // the resume function to call (outside any lock) when the watcher was waiting.
  std::function<void()> Push(const std::vector<SharedEvent>& events);
  std::function<void()> Fail(Failure failure);
  // The resume function when a progress line is due at `now`.
  std::function<void()> DueForProgress(std::chrono::steady_clock::time_point now,
                                       std::chrono::milliseconds progress);

  const WatchFilter filter_;
  const size_t buffer_bytes_max_;
  Mutex mu_;
  // Every event with revision <= delivered_ was handed out by Next.
  uint64_t delivered_ NDS_GUARDED_BY(mu_);
  // Events with revision > live_from_ arrive through Push; those up to it are read from history.
  const uint64_t live_from_;
  std::deque<SharedEvent> buffer_ NDS_GUARDED_BY(mu_);
  size_t buffered_bytes_ NDS_GUARDED_BY(mu_) = 0;
  std::optional<Failure> failure_ NDS_GUARDED_BY(mu_);
  bool failure_sent_ NDS_GUARDED_BY(mu_) = false;
  std::function<void()> resume_ NDS_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_sent_ NDS_GUARDED_BY(mu_);
};

class WatchHub {
 public:
  explicit WatchHub(WatchHubOptions options);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Starts the dispatcher over `engine` (which must outlive Stop) from its applied index.
  void Start(const engine::Engine* engine);
  // Stops and joins the dispatcher; every watcher still open gets nothing more. Idempotent.
  void Stop();

  // From the apply loop: something new was applied, with its events when they were kept (else
  // nullptr; moved from). Never blocks for long.
  void NotifyApplied(store::AppliedEvents* events = nullptr);
  // Asked by the apply before each batch: how many bytes of its events to keep for NotifyApplied
  // (0 while no watcher is open: nothing would use them).
  size_t CaptureBytes() const;

  // A new watcher for changes after `from` (std::nullopt: from the last applied revision).
  // kResourceExhausted beyond --max-watchers; kOutOfRange-like kFailedPrecondition is not used:
  // a revision below the history floor is reported as kNotFound with `*compact_revision` set;
  // kUnavailable before Start.
  Result<std::shared_ptr<Watcher>> Add(WatchFilter filter, std::optional<uint64_t> from,
                                       uint64_t* compact_revision);
  void Remove(const Watcher* watcher);

  // The revision up to which every applied event has been handed to the watchers.
  uint64_t dispatched() const { return dispatched_.load(std::memory_order_acquire); }
  size_t watcher_count() const;
  // Bytes of handed-over batches waiting for the dispatcher (at most options().buffer_bytes).
  size_t queued_bytes() const;
  const WatchHubOptions& options() const { return options_; }
  const engine::Engine* engine() const { return engine_; }

 private:
  void Run();
  // Reads (dispatched_, applied] and hands it out; returns false when nothing was new.
  bool DispatchNew();
  // Hands `page` (every event in (dispatched_, through], in order) to the watchers it matches
  // and moves dispatched_ to `through`.
  void HandOut(std::vector<store::HistoryEvent> page, uint64_t through);
  void FailAll(const Watcher::Failure& failure);
  void WakeDueForProgress();

  const WatchHubOptions options_;
  const engine::Engine* engine_ = nullptr;
  std::atomic<uint64_t> dispatched_{0};
  mutable Mutex mu_;  // guards watchers_ and the wake-up state
  std::condition_variable cv_;
  bool applied_signal_ NDS_GUARDED_BY(mu_) = false;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  std::unordered_map<const Watcher*, std::shared_ptr<Watcher>> watchers_ NDS_GUARDED_BY(mu_);
  // The same watchers by filter, so that handing out a batch costs a lookup per event for the
  // watchers of one key (keyed by the watcher's own filter string), and a pass per event only
  // for the watchers of a prefix.
  std::unordered_multimap<std::string_view, Watcher*> by_key_ NDS_GUARDED_BY(mu_);
  // The watchers of a prefix, grouped by prefix, and how many distinct prefixes have each length:
  // an event's watchers of a prefix are found with a lookup of its key's first L bytes for each
  // length L, so watchers sharing a prefix cost one lookup, not one test each.
  struct PrefixHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<Watcher*>, PrefixHash, std::equal_to<>> by_prefix_
      NDS_GUARDED_BY(mu_);
  std::map<size_t, size_t> prefix_lengths_ NDS_GUARDED_BY(mu_);
  // Applied batches with their events, oldest first, handed out instead of read from the engine
  // when the first starts where the dispatcher is; at most options_.buffer_bytes of events.
  std::deque<store::AppliedEvents> published_ NDS_GUARDED_BY(mu_);
  size_t published_bytes_ NDS_GUARDED_BY(mu_) = 0;
  std::atomic<bool> has_watchers_{false};
  std::thread thread_;
};

}  // namespace nds::api

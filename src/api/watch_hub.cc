// The watch hub's dispatcher and each watcher's buffer (api/watch_hub.h).
#include "api/watch_hub.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "util/check.h"
#include "util/thread_name.h"

namespace nds::api {
namespace {

using Clock = std::chrono::steady_clock;

// Pages of catch-up history one Next reads at most before it answers with a progress line
// instead (when none of them held an event this watcher wants).
constexpr int kCatchUpPagesPerStepMax = 16;
// How often the dispatcher looks for watchers that are due a progress line, at the longest.
constexpr std::chrono::milliseconds kTickMax{250};
// One batch keeps at most this share of --watch-buffer-bytes of events in memory for the hub.
constexpr size_t kCapturedShare = 4;

// What a batch handed over counts against the hub's queue bound: its events, and its own
// bookkeeping, so that batches with no events (no-ops, lease commands) are bounded too.
size_t QueuedBytes(const store::AppliedEvents& batch) {
  return batch.bytes + sizeof(store::AppliedEvents);
}

}  // namespace

Watcher::Watcher(WatchFilter filter, uint64_t delivered, uint64_t live_from,
                 size_t buffer_bytes_max)
    : filter_(std::move(filter)),
      buffer_bytes_max_(buffer_bytes_max),
      delivered_(delivered),
      live_from_(live_from),
      last_sent_() {}  // the epoch: the first Next answers at once (events or progress)

Watcher::Step Watcher::Next(const engine::Engine& engine, uint64_t dispatched,
                            std::chrono::milliseconds progress, size_t page_bytes) {
  Step step;
  uint64_t delivered = 0;
  {
    MutexLock lock(mu_);
    if (failure_ && !failure_sent_) {
      failure_sent_ = true;
      step.failure = failure_;
      return step;
    }
    delivered = delivered_;
  }
  // Catching up: read older revisions from the history, a page at a time.
  for (int page = 0; delivered < live_from_ && page < kCatchUpPagesPerStepMax; ++page) {
    std::unique_ptr<engine::View> view = engine.NewView();
    Result<uint64_t> floor = store::ReadCompactRevision(*view);
    std::vector<store::HistoryEvent> events;
    Result<uint64_t> through =
        floor.ok() ? store::ReadHistoryEvents(*view, delivered, live_from_, page_bytes,
                                              std::numeric_limits<size_t>::max(), &events)
                   : floor.status();
    MutexLock lock(mu_);
    if (!through.ok() || *floor > delivered) {
      failure_sent_ = true;
      step.failure = through.ok() ? Failure{"compacted",
                                            "the history before revision " +
                                                std::to_string(*floor) + " was compacted away",
                                            *floor}
                                  : Failure{"internal", through.status().ToString(), 0};
      return step;
    }
    delivered = delivered_ = *through;
    for (store::HistoryEvent& e : events) {
      if (filter_.Matches(e.key)) {
        step.events.push_back(std::make_shared<const WatchEvent>(std::move(e)));
      }
    }
    if (!step.events.empty()) {
      last_sent_ = Clock::now();
      return step;
    }
  }
  MutexLock lock(mu_);
  if (delivered_ < live_from_) {
    // Still catching up, nothing wanted so far: tell the client how far it got.
    step.progress = delivered_;
    last_sent_ = Clock::now();
    return step;
  }
  size_t bytes = 0;
  while (!buffer_.empty() && (step.events.empty() || bytes < page_bytes)) {
    bytes += buffer_.front()->ByteSize();
    step.events.push_back(std::move(buffer_.front()));
    buffer_.pop_front();
  }
  buffered_bytes_ -= std::min(buffered_bytes_, bytes);
  const Clock::time_point now = Clock::now();
  if (!step.events.empty()) {
    delivered_ = step.events.back()->revision;
    last_sent_ = now;
  } else if (now - last_sent_ >= progress) {
    step.progress = std::max(delivered_, dispatched);
    last_sent_ = now;
  }
  return step;
}

void Watcher::Wait(std::function<void()> resume, std::chrono::milliseconds progress) {
  {
    MutexLock lock(mu_);
    const bool ready = (failure_ && !failure_sent_) || !buffer_.empty() ||
                       delivered_ < live_from_ || Clock::now() - last_sent_ >= progress;
    if (!ready) {
      resume_ = std::move(resume);
      return;
    }
  }
  resume();
}

std::function<void()> Watcher::Push(const std::vector<SharedEvent>& events) {
  MutexLock lock(mu_);
  if (failure_) return {};
  for (const SharedEvent& e : events) {
    if (e->revision <= live_from_) continue;
    const size_t size = e->ByteSize();
    if (!buffer_.empty() && buffered_bytes_ + size > buffer_bytes_max_) {
      buffer_.clear();
      buffered_bytes_ = 0;
      failure_ = Failure{"too_slow",
                         "this watcher fell more than " + std::to_string(buffer_bytes_max_) +
                             " bytes of events behind (--watch-buffer-bytes); resume from the "
                             "last revision received",
                         0};
      break;
    }
    buffered_bytes_ += size;
    buffer_.push_back(e);
  }
  return std::exchange(resume_, nullptr);
}

std::function<void()> Watcher::Fail(Failure failure) {
  MutexLock lock(mu_);
  if (failure_) return {};
  buffer_.clear();
  buffered_bytes_ = 0;
  failure_ = std::move(failure);
  return std::exchange(resume_, nullptr);
}

std::function<void()> Watcher::DueForProgress(Clock::time_point now,
                                              std::chrono::milliseconds progress) {
  MutexLock lock(mu_);
  if (!resume_ || now - last_sent_ < progress) return {};
  return std::exchange(resume_, nullptr);
}

WatchHub::WatchHub(WatchHubOptions options) : options_(options) {}

WatchHub::~WatchHub() { Stop(); }

void WatchHub::Start(const engine::Engine* engine) {
  NDS_CHECK(engine != nullptr);
  NDS_CHECK(!thread_.joinable());
  engine_ = engine;
  dispatched_.store(engine->AppliedIndex().value, std::memory_order_release);
  thread_ = std::thread([this] {
    NameThisThread("nds-watch");
    Run();
  });
}

void WatchHub::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    published_.clear();
    published_bytes_ = 0;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Every open watch ends with a last line, so that the HTTP server's stop need not wait for it.
  FailAll(Watcher::Failure{"stopping", "this node is stopping; resume on another node", 0});
}

void WatchHub::NotifyApplied(store::AppliedEvents* events) {
  {
    MutexLock lock(mu_);
    applied_signal_ = true;
    if (events != nullptr && !watchers_.empty() && !stopping_) {
      published_bytes_ += QueuedBytes(*events);
      published_.push_back(std::move(*events));
      // Over the bound, the oldest go: the dispatcher reads their range from the engine.
      while (published_bytes_ > options_.buffer_bytes) {
        published_bytes_ -= QueuedBytes(published_.front());
        published_.pop_front();
      }
    }
  }
  cv_.notify_one();
}

size_t WatchHub::CaptureBytes() const {
  return has_watchers_.load(std::memory_order_acquire) ? options_.buffer_bytes / kCapturedShare : 0;
}

Result<std::shared_ptr<Watcher>> WatchHub::Add(WatchFilter filter, std::optional<uint64_t> from,
                                               uint64_t* compact_revision) {
  MutexLock lock(mu_);
  if (engine_ == nullptr || stopping_) return Unavailable("this node does not serve watches now");
  if (watchers_.size() >= options_.watchers_max) {
    return ResourceExhausted("this node already serves " + std::to_string(watchers_.size()) +
                             " watches (--max-watchers)");
  }
  const uint64_t dispatched = dispatched_.load(std::memory_order_acquire);
  if (from) {
    NDS_ASSIGN_OR_RETURN(uint64_t floor, store::ReadCompactRevision(*engine_->NewView()));
    if (*from < floor) {
      *compact_revision = floor;
      return NotFound("compacted");
    }
  }
  const uint64_t delivered = from.value_or(dispatched);
  auto watcher = std::make_shared<Watcher>(std::move(filter), delivered,
                                           std::max(delivered, dispatched), options_.buffer_bytes);
  watchers_.emplace(watcher.get(), watcher);
  has_watchers_.store(true, std::memory_order_release);
  if (watcher->filter().exact) {
    by_key_.emplace(watcher->filter().key_or_prefix, watcher.get());
  } else {
    std::vector<Watcher*>& group = by_prefix_[watcher->filter().key_or_prefix];
    if (group.empty()) ++prefix_lengths_[watcher->filter().key_or_prefix.size()];
    group.push_back(watcher.get());
  }
  return watcher;
}

void WatchHub::Remove(const Watcher* watcher) {
  std::shared_ptr<Watcher> removed;  // destroyed after the lock is released
  MutexLock lock(mu_);
  auto it = watchers_.find(watcher);
  if (it == watchers_.end()) return;
  removed = std::move(it->second);
  watchers_.erase(it);
  has_watchers_.store(!watchers_.empty(), std::memory_order_release);
  if (removed->filter().exact) {
    auto [lo, hi] = by_key_.equal_range(removed->filter().key_or_prefix);
    for (auto k = lo; k != hi; ++k) {
      if (k->second == removed.get()) {
        by_key_.erase(k);
        break;
      }
    }
  } else {
    const std::string& prefix = removed->filter().key_or_prefix;
    auto group = by_prefix_.find(prefix);
    NDS_CHECK(group != by_prefix_.end());
    std::erase(group->second, removed.get());
    if (group->second.empty()) {
      by_prefix_.erase(group);
      if (--prefix_lengths_[prefix.size()] == 0) prefix_lengths_.erase(prefix.size());
    }
  }
}

size_t WatchHub::watcher_count() const {
  MutexLock lock(mu_);
  return watchers_.size();
}

size_t WatchHub::queued_bytes() const {
  MutexLock lock(mu_);
  return published_bytes_;
}

void WatchHub::Run() {
  const auto tick =
      std::min(kTickMax, std::max(std::chrono::milliseconds(1), options_.progress_interval / 4));
  // The look for watchers due a progress line visits every watcher: once a tick, not after each
  // dispatched batch (hundreds a second under load).
  Clock::time_point next_progress_look = Clock::now();
  while (true) {
    {
      MutexLock lock(mu_);
      const Clock::time_point deadline = Clock::now() + tick;
      while (!applied_signal_ && !stopping_ && lock.WaitUntil(cv_, deadline)) {
      }
      if (stopping_) return;
      applied_signal_ = false;
    }
    while (DispatchNew()) {
    }
    if (const Clock::time_point now = Clock::now(); now >= next_progress_look) {
      WakeDueForProgress();
      next_progress_look = now + tick;
    }
  }
}

bool WatchHub::DispatchNew() {
  const uint64_t from = dispatched_.load(std::memory_order_acquire);
  std::optional<store::AppliedEvents> kept;
  {
    MutexLock lock(mu_);
    while (!published_.empty() && published_.front().through <= from) {
      published_bytes_ -= QueuedBytes(published_.front());
      published_.pop_front();
    }
    if (!published_.empty() && published_.front().after == from) {
      published_bytes_ -= QueuedBytes(published_.front());
      kept = std::move(published_.front());
      published_.pop_front();
    }
  }
  // The next range as the apply kept it: complete from `from` on, nothing to read.
  if (kept) {
    HandOut(std::move(kept->events), kept->through);
    return true;
  }
  std::unique_ptr<engine::View> view = engine_->NewView();
  const uint64_t applied = view->applied_index().value;
  if (applied <= from) return false;
  {
    // No watcher: nothing to read or hand out. One added later reads what it needs from the
    // history itself, up to the dispatched revision it finds (Add, under the same lock).
    MutexLock lock(mu_);
    if (watchers_.empty()) {
      dispatched_.store(applied, std::memory_order_release);
      return false;
    }
  }
  Result<uint64_t> floor = store::ReadCompactRevision(*view);
  std::vector<store::HistoryEvent> page;
  Result<uint64_t> through =
      floor.ok() ? store::ReadHistoryEvents(*view, from, applied, options_.page_bytes,
                                            std::numeric_limits<size_t>::max(), &page)
                 : floor.status();
  if (!through.ok() || *floor > from) {
    // Events this node never handed out are gone (a snapshot from the leader jumped past them,
    // or the dispatcher fell more than --history-revisions behind): no watcher may miss them.
    Watcher::Failure failure =
        through.ok() ? Watcher::Failure{"compacted",
                                        "this node skipped history up to revision " +
                                            std::to_string(*floor) + " (a snapshot or compaction)",
                                        *floor}
                     : Watcher::Failure{"internal", through.status().ToString(), 0};
    if (!through.ok()) spdlog::error("watch dispatcher: {}", through.status().ToString());
    FailAll(failure);
    dispatched_.store(applied, std::memory_order_release);
    return false;
  }
  HandOut(std::move(page), *through);
  return *through < applied;
}

void WatchHub::HandOut(std::vector<store::HistoryEvent> page, uint64_t through) {
  std::vector<SharedEvent> events;
  events.reserve(page.size());
  for (store::HistoryEvent& e : page) {
    events.push_back(std::make_shared<const WatchEvent>(std::move(e)));
  }
  std::vector<std::function<void()>> resumes;
  {
    MutexLock lock(mu_);
    auto push = [&resumes](Watcher* watcher, const std::vector<SharedEvent>& matching) {
      if (auto resume = watcher->Push(matching)) resumes.push_back(std::move(resume));
    };
    // The watchers of one key: each event's, in revision order.
    std::unordered_map<Watcher*, std::vector<SharedEvent>> of_key;
    if (!by_key_.empty()) {
      for (const SharedEvent& e : events) {
        auto [lo, hi] = by_key_.equal_range(e->key);
        for (auto k = lo; k != hi; ++k) of_key[k->second].push_back(e);
      }
    }
    for (const auto& [watcher, matching] : of_key) push(watcher, matching);
    // The watchers of a prefix: each event's, by group, in revision order.
    std::unordered_map<const std::vector<Watcher*>*, std::vector<SharedEvent>> of_prefix;
    if (!by_prefix_.empty()) {
      for (const SharedEvent& e : events) {
        for (const auto& [length, count] : prefix_lengths_) {
          if (length > e->key.size()) break;
          auto group = by_prefix_.find(std::string_view(e->key).substr(0, length));
          if (group != by_prefix_.end()) of_prefix[&group->second].push_back(e);
        }
      }
    }
    for (const auto& [group, matching] : of_prefix) {
      for (Watcher* watcher : *group) push(watcher, matching);
    }
    dispatched_.store(through, std::memory_order_release);
  }
  for (auto& resume : resumes) resume();
}

void WatchHub::FailAll(const Watcher::Failure& failure) {
  std::vector<std::function<void()>> resumes;
  {
    MutexLock lock(mu_);
    for (auto& [ptr, watcher] : watchers_) {
      if (auto resume = watcher->Fail(failure)) resumes.push_back(std::move(resume));
    }
  }
  for (auto& resume : resumes) resume();
}

void WatchHub::WakeDueForProgress() {
  std::vector<std::function<void()>> resumes;
  const Clock::time_point now = Clock::now();
  {
    MutexLock lock(mu_);
    for (auto& [ptr, watcher] : watchers_) {
      if (auto resume = watcher->DueForProgress(now, options_.progress_interval)) {
        resumes.push_back(std::move(resume));
      }
    }
  }
  for (auto& resume : resumes) resume();
}

}  // namespace nds::api

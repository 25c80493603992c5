// The watch workload of `nds check` (docs/check.md "Workloads"): the clients write unique values to
// the run's keys on random nodes while as many watchers follow the keys' prefix with
// nds::Client::Watch (which moves to another node when its node dies and resumes after its last
// revision). At the end one more write marks the last revision; every watcher must reach it, and
// watch_check.h decides whether each saw every change exactly once, in order.
//
// Bounds: a watcher's callback runs at least every second (progress lines), and looks at the
// run's end; a watch that fails is resumed at most kWatchRoundsMax times; Finish waits at most
// kCatchUpMax for the watchers.
#include <algorithm>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "check/watch_check.h"
#include "check/workload.h"
#include "util/thread_annotations.h"

namespace nds::check {
namespace {

constexpr size_t kWatchRoundsMax = 200;
constexpr std::chrono::seconds kCatchUpMax{30};
constexpr size_t kMarkerAttemptsMax = 30;
// Writes per run at most (the watchers keep every event in memory).
constexpr uint64_t kWritesMax = 200'000;

class WatchWorkload : public WorkloadRunner {
 public:
  explicit WatchWorkload(const WorkloadContext& context)
      : context_(context),
        keys_prefix_(context.prefix + "watched/"),
        logs_(std::max<size_t>(2, context.clients)) {}

  ~WatchWorkload() override {
    give_up_.store(true);
    for (std::thread& t : watchers_) {
      if (t.joinable()) t.join();
    }
  }

  Status Start() override {
    NDS_ASSIGN_OR_RETURN(from_, WriteMarker(context_.prefix + "start", "start"));
    for (size_t i = 0; i < logs_.size(); ++i) {
      logs_[i].id = i;
      logs_[i].from = from_;
      logs_[i].reached = from_;
      watchers_.emplace_back([this, i] { Watch(logs_[i]); });
    }
    return Status::Ok();
  }

  void RunClient(size_t index) override {
    Result<std::unique_ptr<Client>> client = MakeRunClient(context_, index, 1);
    if (!client.ok()) return;
    std::mt19937_64 rng(context_.seed * 7919 + index);
    for (uint64_t n = 0; !context_.stop->load() && writes_.fetch_add(1) < kWritesMax; ++n) {
      std::string key = fmt::format("{}k{}", keys_prefix_, rng() % context_.keys);
      std::string value = fmt::format("c{}-{}", index, n);
      // Padded, big values are written to the history by reference (store/history.h).
      if (value.size() < context_.value_bytes) value.resize(context_.value_bytes, '.');
      {
        MutexLock lock(mu_);
        history_.attempted_values.push_back(value);
      }
      Result<client::PutResult> put = (*client)->Put(key, value);
      if (!put.ok()) {
        // A node that is down or paused: try the next one after a pause, from the nodes the run
        // has now (membership faults replace them all in time).
        SleepUnlessStopped(std::chrono::milliseconds(50), *context_.stop);
        if (auto fresh = MakeRunClient(context_, index, 1); fresh.ok()) client = std::move(fresh);
        continue;
      }
      MutexLock lock(mu_);
      history_.acknowledged.push_back({put->revision, key, value, false});
    }
  }

  void Finish(std::ostream& progress) override {
    // The last write, after every client stopped: each watcher must reach its revision.
    Result<uint64_t> last = WriteMarker(keys_prefix_ + "end", "end");
    uint64_t final_revision = 0;
    if (last.ok()) {
      final_revision = *last;
    } else {
      notes_.push_back("the final write failed (" + last.status().ToString() +
                       "): the watchers are checked up to the last acknowledged write");
      MutexLock lock(mu_);
      for (const WatchedChange& c : history_.acknowledged) {
        final_revision = std::max(final_revision, c.revision);
      }
    }
    target_.store(final_revision);
    progress << fmt::format("nds check: waiting for {} watchers to reach revision {}\n",
                            logs_.size(), final_revision)
             << std::flush;
    catch_up_deadline_us_.store(SteadyMicros() + std::chrono::microseconds(kCatchUpMax).count());
    for (std::thread& t : watchers_) t.join();
    watchers_.clear();
    MutexLock lock(mu_);
    history_.final_revision = final_revision;
  }

  WorkloadFindings Conclude() override {
    MutexLock lock(mu_);
    history_.watchers = logs_;
    WorkloadFindings f = CheckWatchHistory(history_);
    f.notes.insert(f.notes.begin(), notes_.begin(), notes_.end());
    return f;
  }

 private:
  // Writes `value` under `key` with retries (bounded); its revision.
  Result<uint64_t> WriteMarker(const std::string& key, const std::string& value) {
    {
      MutexLock lock(mu_);
      history_.attempted_values.push_back(value);
    }
    Status last = Unavailable("no attempt");
    for (size_t attempt = 0; attempt < kMarkerAttemptsMax; ++attempt) {
      Result<std::unique_ptr<Client>> client = MakeRunClient(context_, attempt, 3);
      if (!client.ok()) return client.status();
      Result<client::PutResult> put = (*client)->Put(key, value);
      if (put.ok()) {
        if (key.starts_with(keys_prefix_)) {
          MutexLock lock(mu_);
          history_.acknowledged.push_back({put->revision, key, value, false});
        }
        return put->revision;
      }
      last = put.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return last;
  }

  bool Done(const WatcherLog& log) const {
    uint64_t target = target_.load();
    return (target > 0 && log.reached >= target) || give_up_.load() ||
           SteadyMicros() > catch_up_deadline_us_.load();
  }

  // One watcher's thread: follows the prefix from from_ until it reaches the final revision, is
  // stopped by a compaction, or Finish's deadline passes.
  void Watch(WatcherLog& log) {
    Result<std::unique_ptr<Client>> client = MakeRunClient(context_, log.id + 1, 3);
    if (!client.ok()) return;
    client::WatchRequest request;
    request.prefix = keys_prefix_;
    request.from = from_;
    request.progress = true;
    request.reconnects_max = 10;
    request.silence_max = std::chrono::milliseconds(3'000);
    for (size_t round = 0; round < kWatchRoundsMax && !Done(log); ++round) {
      client::WatchEnd end;
      Status status = (*client)->Watch(
          request,
          [&](const client::WatchEvent& e) -> Status {
            if (e.type != client::WatchEvent::Type::kProgress) {
              log.events.push_back(
                  {e.revision, e.key, e.value, e.type == client::WatchEvent::Type::kDelete});
            }
            // Every change of this workload has a revision of its own (single puts), so an
            // event completes its revision.
            log.reached = std::max(log.reached, e.revision);
            return Done(log) ? Cancelled("done") : Status::Ok();
          },
          &end);
      log.reached = std::max(log.reached, end.revision);
      log.resumes += end.reconnects;
      if (end.compact_revision) {
        log.compacted = end.compact_revision;
        return;
      }
      if (status.code() == StatusCode::kInvalidArgument) return;  // refused: reported as a miss
      if (Done(log)) return;
      // The client gave up reconnecting (the cluster was unreachable for a while, or every node it
      // knew left the cluster): resume, on the nodes the run has now.
      ++log.resumes;
      request.from = log.reached;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (auto fresh = MakeRunClient(context_, log.id + 1, 3); fresh.ok())
        client = std::move(fresh);
    }
  }

  const WorkloadContext context_;
  const std::string keys_prefix_;
  uint64_t from_ = 0;
  std::vector<WatcherLog> logs_;  // logs_[i] belongs to watchers_[i] until it is joined
  std::vector<std::thread> watchers_;
  std::atomic<uint64_t> target_{0};
  std::atomic<bool> give_up_{false};
  std::atomic<uint64_t> catch_up_deadline_us_{UINT64_MAX};
  std::atomic<uint64_t> writes_{0};
  std::vector<std::string> notes_;
  Mutex mu_;
  WatchHistory history_ NDS_GUARDED_BY(mu_);  // acknowledged and attempted writes
};

}  // namespace

std::unique_ptr<WorkloadRunner> MakeWatchWorkload(const WorkloadContext& context) {
  return std::make_unique<WatchWorkload>(context);
}

}  // namespace nds::check

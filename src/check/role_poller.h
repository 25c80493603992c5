// The "two geese" watch of `nds check`: GET /role on every node, every ~20 ms, in rounds that
// start at the same instants on every node (one thread per node, all aligned to one clock), and
// the search of the answers for a round in which two nodes both answered goose (docs/api.md:
// "at any instant at most one node answers goose").
//
// An answer belongs to its round only when it arrives within the poll timeout (a fraction of a
// lease), so two goose answers of one round were given within that much of each other.
//
// FindTwoGeese is pure (any thread). RolePoller is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check/recorder.h"
#include "client/options.h"
#include "util/thread_annotations.h"

namespace nds::check {

// One goose answer: who, in which round, and when the request went out and the answer came back
// (microseconds on the run's clock).
struct GooseSample {
  std::string address;
  uint64_t round = 0;
  uint64_t sent_us = 0;
  uint64_t received_us = 0;
};

// A round in which more than one node answered goose.
struct TwoGeese {
  uint64_t round = 0;
  uint64_t sent_us = 0;  // the earliest request of the round
  std::vector<GooseSample> geese;
};

// Rounds (ascending) in which two or more distinct addresses answered goose.
std::vector<TwoGeese> FindTwoGeese(const std::vector<GooseSample>& samples);

struct RolePollerOptions {
  std::chrono::milliseconds interval{20};
  std::chrono::milliseconds timeout{100};  // per request; a later answer is dropped
  size_t samples_max = 1'000'000;          // goose answers kept (then counted only)
  client::ClientTlsOptions tls;            // for https:// addresses
};

class RolePoller {
 public:
  // `clock` stamps the samples (the run's clock) and must outlive the poller.
  RolePoller(const Recorder* clock, RolePollerOptions options);
  ~RolePoller();  // Stop()
  RolePoller(const RolePoller&) = delete;
  RolePoller& operator=(const RolePoller&) = delete;

  // Starts polling `address` (no-op when it is polled already).
  void Watch(const std::string& address);
  // Stops polling `address` (a node removed from the cluster): its thread ends within a round.
  void Unwatch(const std::string& address);
  // Stops and joins every poller thread. Idempotent.
  void Stop();

  std::vector<GooseSample> GooseSamples() const;
  uint64_t answers() const { return answers_.load(); }    // duck or goose, in time
  uint64_t failures() const { return failures_.load(); }  // no answer in time, or an error

 private:
  void PollLoop(const std::string& address);
  bool Unwatched(const std::string& address) const;

  const Recorder* clock_;
  const RolePollerOptions options_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answers_{0};
  std::atomic<uint64_t> failures_{0};
  mutable Mutex mu_;
  std::vector<std::string> watched_ NDS_GUARDED_BY(mu_);
  std::vector<std::string> unwatched_ NDS_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ NDS_GUARDED_BY(mu_);
  std::vector<GooseSample> samples_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::check

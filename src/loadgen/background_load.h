// The background load of `nds bench` (docs/benchmarks.md "Background load"): watch streams held
// open (--hold-watchers) and leases kept alive (--keep-leases) on one node while the measured
// phase runs, so that the cost of watchers and of keepalives on put throughput is the same
// command with and without a flag. Started before the measured phase and ready when it returns
// (every watcher has its stream's first line, every lease is granted); finished after it (the
// watchers read until they have seen the last put, the leases are revoked).
//
// Watchers: one connection each, `GET /watch?prefix=P`, every line counted (WatchLineCounter).
// Leases: granted over --lease-connections connections at once; each connection then keeps its
// share alive, lease k due at k/N of the interval into every interval, one request at a time (a
// node runs a connection's pipelined requests one after another and a keepalive waits for its
// batch, so requests in flight come from connections, not from pipelining). With
// --keepalive-batch N > 1 a connection sends its share in groups of N consecutive leases, one
// POST /leases/keepalive per group, due when the group's first lease is; counts stay per lease.
//
// Owns one thread with its own io_context. Start and Finish are called from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "loadgen/bench_options.h"
#include "util/status.h"

namespace nds::loadgen {

// What the background load did, from when it was ready to when it finished.
struct BackgroundCounts {
  uint64_t watchers = 0;              // streams opened
  uint64_t watch_events = 0;          // event lines received, over all streams
  uint64_t watch_progress_lines = 0;  // progress lines received
  uint64_t watch_error_lines = 0;     // error lines (a stream cut by the node, e.g. too_slow)
  uint64_t watchers_ended_early = 0;  // streams that ended before the measured phase did
  uint64_t watchers_caught_up = 0;    // streams that saw the last put's revision at the end
  std::string first_watch_error;      // an error line's name or a connection error

  uint64_t leases_granted = 0;
  uint64_t keepalives_sent = 0;
  uint64_t keepalives_ok = 0;      // answered 200
  uint64_t keepalives_failed = 0;  // any other answer, or none
  uint64_t keepalives_late = 0;    // sent more than one interval after they were due
  uint64_t leases_revoked = 0;
  std::string first_lease_error;

  std::chrono::nanoseconds setup{0};  // opening the watchers and granting the leases
  std::chrono::nanoseconds ran{0};    // from ready to the start of Finish
};

class BackgroundLoad {
 public:
  // Opens the watchers and grants the leases of `options` (HasBackground() must be true), and
  // starts the keepalives; returns once all of that is done. kInvalidArgument when the background
  // server is https://; kUnavailable naming the first failure when a watcher could not be opened
  // or a lease not granted (what was granted is revoked first). `options` must outlive the load.
  static Result<std::unique_ptr<BackgroundLoad>> Start(const BenchOptions& options);

  // Stops the keepalives and revokes the leases; lets each watcher read until it has seen
  // `last_write_revision` (when known), at most the request timeout, then closes it. Returns the
  // counts. Call once.
  BackgroundCounts Finish(std::optional<uint64_t> last_write_revision);

  ~BackgroundLoad();  // NOLINT(bugprone-exception-escape): see the definition
  BackgroundLoad(const BackgroundLoad&) = delete;
  BackgroundLoad& operator=(const BackgroundLoad&) = delete;

  class Impl;

 private:
  explicit BackgroundLoad(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nds::loadgen

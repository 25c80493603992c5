// Runs one load-generation job (BenchOptions) against nds or etcd and measures it: a few threads,
// each with its own io_context, drive many keep-alive HTTP/1.1 connections (C++20 coroutines on
// Asio: the brief allows them here, outside net/ and api/). Closed loop (each connection sends
// its next request when the last is answered) or open loop at a target rate (each connection
// follows a fixed schedule, and latency is measured from the intended send time, so a stalled
// server shows as latency rather than as fewer requests: no coordinated omission). Errors are
// counted by kind; a lost connection reconnects with bounded exponential backoff.
//
// RunBench blocks the calling thread, which reports progress; worker threads are internal.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "loadgen/background_load.h"
#include "loadgen/bench_options.h"
#include "loadgen/histogram.h"
#include "util/status.h"

namespace nds::loadgen {

struct ErrorCounts {
  uint64_t connect = 0;   // a connect failed or timed out
  uint64_t timeout = 0;   // no whole reply within --request-timeout
  uint64_t closed = 0;    // the connection broke while a request was out
  uint64_t protocol = 0;  // a malformed or oversized reply
  uint64_t http_4xx = 0;  // except a CAS's expected 412 (counted as a conflict)
  uint64_t http_5xx = 0;
  uint64_t other_status = 0;  // 1xx/3xx final statuses

  // Failed operations (connect failures are not operations: they delay one).
  uint64_t FailedOps() const {
    return timeout + closed + protocol + http_4xx + http_5xx + other_status;
  }
  uint64_t Total() const { return connect + FailedOps(); }
  void Add(const ErrorCounts& o) {
    connect += o.connect;
    timeout += o.timeout;
    closed += o.closed;
    protocol += o.protocol;
    http_4xx += o.http_4xx;
    http_5xx += o.http_5xx;
    other_status += o.other_status;
  }
};

struct BenchResult {
  std::chrono::nanoseconds elapsed{0};  // of the measured phase
  uint64_t ops_ok = 0;                  // operations answered with success
  uint64_t cas_conflicts = 0;           // CAS operations answered "revision changed"
  uint64_t reads_ok = 0;
  uint64_t writes_ok = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t preload_ops = 0;
  // Connections that stopped early after --reconnects consecutive failures.
  uint64_t connections_given_up = 0;
  ErrorCounts errors;
  // Latency in nanoseconds of every completed operation (ok, conflict or failed with a reply).
  Histogram latency_ns;
  // The highest revision a successful write was answered with (nds's ETag), when any was.
  std::optional<uint64_t> last_write_revision;
  // What the background load did (--hold-watchers, --keep-leases), when there was one.
  std::optional<BackgroundCounts> background;
};

// What the progress line shows, over the interval since the previous report.
struct Progress {
  std::chrono::nanoseconds elapsed{0};
  uint64_t ops_total = 0;  // completed since the start of the measured phase
  double ops_per_second = 0;
  uint64_t p50_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t errors_total = 0;
};
using ProgressCallback = std::function<void(const Progress&)>;

// Resolves the servers, preloads the keys when options.ShouldPreload(), starts the background
// load when options.HasBackground() (the measured phase begins once it is ready), then runs the
// measured
// phase until the duration has passed or op_count operations are done, waiting for the answers
// to requests already sent (so the counts match what the servers saw). Calls `on_progress` (if
// set) on the calling thread about every `progress_interval`. Errors: the options' Validate()
// status; kUnavailable when a server name does not resolve, the preload fails, or the background
// load cannot be set up (naming why).
// Failures during the measured phase are counted in the result, not returned.
Result<BenchResult> RunBench(
    const BenchOptions& options, const ProgressCallback& on_progress = {},
    std::chrono::milliseconds progress_interval = std::chrono::milliseconds(250));

}  // namespace nds::loadgen

// How `nds bench` shows its numbers: the live progress line (for a terminal), the final report
// for people, and the one JSON object for scripts (docs/benchmarks.md lists its fields).
//
// Plain functions: thread-safe.
#pragma once

#include <string>

#include "loadgen/bench_options.h"
#include "loadgen/runner.h"

namespace nds::loadgen {

// "  3.2s  12345 ops/s  p50 1.23ms  p99 4.56ms  errors 0" (no newline; the caller rewrites the
// terminal line with "\r" and clears to its end).
std::string FormatProgressLine(const Progress& progress);

// The final report: what ran, throughput, errors by kind, latency percentiles. Ends in a newline.
std::string FormatReport(const BenchOptions& options, const BenchResult& result);

// The same as one JSON object (and a newline), latencies in microseconds.
std::string FormatJson(const BenchOptions& options, const BenchResult& result);

// "850us", "1.23ms", "2.50s": a latency in nanoseconds for people.
std::string FormatLatency(uint64_t ns);

}  // namespace nds::loadgen

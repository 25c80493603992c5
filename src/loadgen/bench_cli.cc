// `nds bench` end to end: flags to options, the run, progress and the report (bench_cli.h).
#include "loadgen/bench_cli.h"

#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

#include "loadgen/report.h"
#include "loadgen/runner.h"

namespace nds::loadgen {

int RunBenchCommand(const BenchFlags& flags, std::string_view servers_text) {
  Result<BenchOptions> options = flags.ToOptions(servers_text);
  if (!options.ok()) {
    fmt::print(stderr, "nds bench: {}; run 'nds bench --help'\n", options.status().message());
    return kBenchExitUsage;
  }
  const bool show_progress = !flags.no_progress && isatty(STDOUT_FILENO) != 0;
  ProgressCallback on_progress;
  if (show_progress) {
    on_progress = [](const Progress& p) {
      fmt::print(stderr, "\r{}\x1b[K", FormatProgressLine(p));
      std::fflush(stderr);
    };
  }
  Result<BenchResult> result = RunBench(*options, on_progress);
  if (show_progress) fmt::print(stderr, "\r\x1b[K");
  if (!result.ok()) {
    fmt::print(stderr, "nds bench: {}\n", result.status().message());
    return kBenchExitError;
  }
  const std::string text =
      flags.json ? FormatJson(*options, *result) : FormatReport(*options, *result);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    fmt::print(stderr, "nds bench: cannot write the report to stdout\n");
    return kBenchExitError;
  }
  if (result->ops_ok + result->cas_conflicts == 0) {
    fmt::print(stderr, "nds bench: no operation succeeded ({} errors); is the server up?\n",
               result->errors.Total());
    return kBenchExitError;
  }
  return kBenchExitOk;
}

}  // namespace nds::loadgen

// nds-bench: `nds bench` as a standalone program (same flags, plus --server / NDS_SERVER), for
// manual runs and bench/compare while the `nds` binary does not link the loadgen module.
#include <CLI/CLI.hpp>

#include "loadgen/bench_cli.h"

// NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
int main(int argc, char** argv) {
  CLI::App app("nds-bench: load generator and latency measurer for nds and etcd", "nds-bench");
  nds::loadgen::BenchFlags flags;
  std::string servers = "localhost:7777";
  app.add_option("--server", servers, "Servers HOST:PORT[,HOST:PORT...]; connections spread")
      ->envname("NDS_SERVER")
      ->capture_default_str();
  nds::loadgen::AddBenchFlags(&app, &flags);
  nds::loadgen::AddClientTlsFlags(&app, &flags.tls);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : nds::loadgen::kBenchExitUsage;
  }
  return nds::loadgen::RunBenchCommand(flags, servers);
}

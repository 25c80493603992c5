// Registration of `nds bench` (bench_command.h); the work is in loadgen/bench_cli.cc.
#include "cli/bench_command.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "loadgen/bench_cli.h"
#include "loadgen/bench_options.h"

namespace nds::cli {
namespace {

constexpr char kDefaultServers[] = "localhost:7777";

}  // namespace

void RegisterBenchCommand(CLI::App& app) {
  auto flags = std::make_shared<loadgen::BenchFlags>();
  auto own_servers = std::make_shared<std::string>(kDefaultServers);
  auto* bench = app.add_subcommand(
      "bench", "Load-test nds (or etcd) and report throughput and latency percentiles");
  loadgen::AddBenchFlags(bench, flags.get());
  const bool global_tls = app.get_option_no_throw("--cacert") != nullptr;
  if (!global_tls) loadgen::AddClientTlsFlags(bench, &flags->tls);
  CLI::Option* global_servers = app.get_option_no_throw("--server");
  if (global_servers == nullptr) {
    bench->add_option("--server", *own_servers, "Servers HOST:PORT[,HOST:PORT...]")
        ->envname("NDS_SERVER")
        ->capture_default_str();
  }
  bench->callback([flags, own_servers, global_servers, global_tls, &app] {
    if (global_tls) flags->tls = loadgen::ClientTlsFlagValues(app);
    std::string servers = *own_servers;
    if (global_servers != nullptr) {
      // Given on the command line or through NDS_SERVER: its value; else its default.
      servers = global_servers->count() > 0 ? global_servers->results().back()
                                            : global_servers->get_default_str();
      if (servers.empty()) servers = kDefaultServers;
    }
    std::exit(loadgen::RunBenchCommand(*flags, servers));
  });
}

}  // namespace nds::cli

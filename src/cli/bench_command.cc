// Registration of `nds bench` (bench_command.h); the work is in loadgen/bench_cli.cc.
#include "cli/bench_command.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/flag_range.h"
#include "loadgen/bench_cli.h"
#include "loadgen/bench_options.h"

namespace nds::cli {
namespace {

constexpr char kDefaultServers[] = "localhost:7777";
// Request and connect timeouts are clamped to this in loadgen/bench_options.cc.
constexpr double kBenchTimeoutSecondsMax = 3600;

}  // namespace

void RegisterBenchCommand(CLI::App& app) {
  auto flags = std::make_shared<loadgen::BenchFlags>();
  auto own_servers = std::make_shared<std::string>(kDefaultServers);
  auto* bench = app.add_subcommand(
      "bench", "Load-test nds (or etcd) and report throughput and latency percentiles");
  loadgen::AddBenchFlags(bench, flags.get());
  // Numeric flags name the value and the range when refused (cli/flag_range.h); RunBenchCommand
  // still checks how they combine.
  bench->get_option("--keys")->check(WholeInRange(1, loadgen::kKeyCountMax));
  bench->get_option("--concurrency")->check(WholeInRange(1, loadgen::kConnectionsMax));
  bench->get_option("--threads")->check(WholeInRange(1, loadgen::kThreadsMax));
  bench->get_option("--ops")->check(WholeInRange(1, loadgen::kOpCountMax));
  bench->get_option("--reconnects")->check(WholeInRange(0, loadgen::kReconnectsMax));
  bench->get_option("--seed")->check(WholeInRange(0, UINT64_MAX));
  bench->get_option("--hold-watchers")->check(WholeInRange(0, loadgen::kHeldWatchersMax));
  bench->get_option("--keep-leases")->check(WholeInRange(0, loadgen::kKeptLeasesMax));
  bench->get_option("--lease-connections")->check(WholeInRange(1, loadgen::kLeaseConnectionsMax));
  bench->get_option("--read-ratio")->check(DecimalInRange(0, 1));
  bench->get_option("--rate")->check(DecimalInRange(0.001, loadgen::kRatePerSecondMax));
  for (const char* name : {"--request-timeout", "--connect-timeout"}) {
    bench->get_option(name)->check(DecimalInRange(0.001, kBenchTimeoutSecondsMax, "1 hour"));
  }
  const bool global_tls = app.get_option_no_throw("--cacert") != nullptr;
  if (!global_tls) loadgen::AddClientTlsFlags(bench, &flags->tls);
  CLI::Option* global_servers = app.get_option_no_throw("--server");
  CLI::Option* global_token_file = app.get_option_no_throw("--token-file");
  if (global_token_file == nullptr) {
    bench->add_option("--token-file", flags->token_file,
                      "Send the bearer token in FILE; default: NDS_AUTH_TOKEN");
  }
  if (global_servers == nullptr) {
    bench->add_option("--server", *own_servers, "Servers HOST:PORT[,HOST:PORT...]")
        ->envname("NDS_SERVER")
        ->capture_default_str();
  }
  bench->callback([flags, own_servers, global_servers, global_token_file, global_tls, &app] {
    if (global_token_file != nullptr && global_token_file->count() > 0) {
      flags->token_file = global_token_file->results().back();
    }
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

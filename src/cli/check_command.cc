// Registration of `nds check` (check_command.h); the work is in check/check_run.cc.
#include "cli/check_command.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

#include "check/check_options.h"
#include "check/check_run.h"
#include "check/report.h"
#include "cli/flag_range.h"
#include "loadgen/bench_options.h"

namespace nds::cli {
namespace {

// This executable: the local cluster's nodes run it (`nds start`).
std::string SelfPath() {
  std::string path(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return {};
  path.resize(static_cast<size_t>(n));
  return path;
}

void AddCheckFlags(CLI::App* c, check::CheckFlags* f) {
  c->add_option("--local", f->local_nodes, "Start a local cluster of N nodes for the run")
      ->check(WholeInRange(1, check::kLocalNodesMax));
  c->add_option("--node-arg", f->node_args,
                "Extra argument for every `nds start` of the local cluster (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--clients", f->clients, "Concurrent clients")
      ->capture_default_str()
      ->check(WholeInRange(1, check::kClientsMax));
  c->add_option("--keys", f->keys, "Keys (registers) the clients share")
      ->capture_default_str()
      ->check(WholeInRange(1, check::kKeysMax));
  c->add_option("--value-bytes", f->value_bytes,
                "With --workload watch: values padded to at least N bytes (default 0: not padded)")
      ->check(WholeInRange(0, check::kValueBytesMax));
  c->add_option("--duration", f->duration, "Run time (30s, 2m); default 10s without --ops");
  c->add_option("--ops", f->ops, "Operations in total (the run ends at the first bound reached)")
      ->check(WholeInRange(1, check::kOpsMax));
  c->add_option("--faults", f->faults,
                "Faults on the local cluster: kill,restart,pause,leader,member or all");
  c->add_option("--fault-interval", f->fault_interval, "One fault every interval")
      ->capture_default_str();
  c->add_option("--request-timeout", f->request_timeout,
                "Client timeout: a write unanswered by then is indeterminate")
      ->capture_default_str();
  c->add_option("--seed", f->seed, "Seed of the operation and fault choices (default: random)")
      ->check(WholeInRange(0, UINT64_MAX));
  c->add_flag("--json", f->json, "Print the report as JSON");
  c->add_option("--history", f->history_path, "Write the recorded history to this file");
  c->add_option("--protocol", f->protocol,
                "How the register operations are sent: http (/store/), resp (the Redis "
                "protocol) or txn (POST /txn)")
      ->capture_default_str();
  c->add_option("--workload", f->workload,
                "What the clients do: register (linearizability), watch, lease or lock")
      ->capture_default_str();
  c->add_option("--resp-server", f->resp_servers,
                "With --protocol resp and --server: the RESP HOST:PORT of each server, in order");
}

}  // namespace

void RegisterCheckCommand(CLI::App& app) {
  auto flags = std::make_shared<check::CheckFlags>();
  auto own_servers = std::make_shared<std::string>();
  auto* command = app.add_subcommand(
      "check", "Test a cluster: concurrent clients, faults, and a linearizability check");
  AddCheckFlags(command, flags.get());
  const bool global_tls = app.get_option_no_throw("--cacert") != nullptr;
  if (!global_tls) loadgen::AddClientTlsFlags(command, &flags->tls);
  CLI::Option* servers_option = app.get_option_no_throw("--server");
  CLI::Option* token_file_option = app.get_option_no_throw("--token-file");
  if (token_file_option == nullptr) {
    command->add_option("--token-file", flags->token_file,
                        "Send the bearer token in FILE; default: NDS_AUTH_TOKEN");
  }
  CLI::Option* own_option = nullptr;
  if (servers_option == nullptr) {
    own_option = command->add_option("--server", *own_servers, "Servers HOST:PORT[,HOST:PORT...]")
                     ->envname("NDS_SERVER");
  }
  command->callback([flags, servers_option, own_option, token_file_option, global_tls, &app] {
    if (token_file_option != nullptr && token_file_option->count() > 0) {
      flags->token_file = token_file_option->results().back();
    }
    if (global_tls) flags->tls = loadgen::ClientTlsFlagValues(app);
    CLI::Option* option = servers_option != nullptr ? servers_option : own_option;
    bool use_servers = option->count() > 0;
    std::string servers = use_servers ? option->results().back() : std::string();
    uint64_t random_seed =
        std::random_device{}() ^
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    Result<check::CheckOptions> options =
        flags->ToOptions(servers, use_servers, SelfPath(), random_seed % 1'000'000'000);
    if (!options.ok()) {
      std::cerr << "nds check: " << options.status().message() << "\n";
      std::exit(check::kCheckExitUsage);
    }
    Result<check::CheckReport> report = check::RunCheck(*options, std::cerr);
    if (!report.ok()) {
      std::cerr << "nds check: " << report.status().ToString() << "\n";
      std::exit(check::kCheckExitAnomaly);
    }
    std::cout << (options->json ? check::FormatJson(*report) : check::FormatText(*report))
              << std::flush;
    std::exit(report->ExitCode());
  });
}

}  // namespace nds::cli

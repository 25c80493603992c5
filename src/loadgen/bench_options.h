// What one `nds bench` run does (BenchOptions, validated), and its command-line flags: the CLI11
// registration shared by `nds bench` (cli/bench_command.cc) and the standalone nds-bench, and the
// conversion of the raw flag values into BenchOptions with every bound checked into a Status.
// docs/benchmarks.md describes every flag.
//
// Plain value types; AddBenchFlags writes into the BenchFlags it is given during CLI11 parsing
// (main thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "client/options.h"
#include "loadgen/request_format.h"
#include "util/status.h"

namespace nds::loadgen {

// Bounds of the flags (STYLE.md §6: everything has a limit).
inline constexpr size_t kConnectionsMax = 10'000;
inline constexpr size_t kThreadsMax = 64;
inline constexpr uint64_t kKeyCountMax = 100'000'000;
inline constexpr size_t kValueBytesMax = 64 << 20;
inline constexpr std::chrono::hours kDurationMax{24};
inline constexpr uint64_t kOpCountMax = uint64_t{1} << 40;
inline constexpr double kRatePerSecondMax = 10'000'000;
inline constexpr size_t kKeyPrefixBytesMax = 512;
inline constexpr size_t kReconnectsMax = 1'000;
// The background load's bounds: a node's default --max-watchers and --max-leases, and a node's
// default --max-connections less room for the measured connections.
inline constexpr size_t kHeldWatchersMax = 10'000;
inline constexpr size_t kKeptLeasesMax = 100'000;
inline constexpr size_t kLeaseConnectionsMax = 2'000;
// --lease-connections by default: one connection per this many leases (a node answers a
// connection's keepalives one at a time, each after its batch window), at most
// kLeaseConnectionsAutoMax.
inline constexpr size_t kLeasesPerConnectionAuto = 10;
inline constexpr size_t kLeaseConnectionsAutoMax = 1'000;
// Leases one --keepalive-batch request names at most (a node's default --max-keepalive-ids).
inline constexpr size_t kKeepaliveBatchMax = 1'000;

enum class Workload {
  kPut,    // writes of --value-size bytes to random keys
  kGet,    // linearizable reads of random (preloaded) keys
  kMixed,  // reads with probability --read-ratio, else writes
  kCas,    // read the key's revision, then write it only if unchanged (one op, two requests)
  kBlob,   // like mixed, through /store/ with blobs of --value-size (default 1 MiB)
  kTxn,    // one POST /txn putting --txn-ops random keys (one op, one log entry; nds only)
};

// Most puts in one transaction of the txn workload (a node's default --max-txn-ops).
inline constexpr size_t kTxnOpsMax = 128;

// Sets `*key` to the workload's key `index`: the prefix, then the index in ten digits.
void AssignKey(std::string* key, std::string_view prefix, uint64_t index);

// Returns "put", "get", "mixed", "cas", "blob" or "txn".
std::string_view WorkloadName(Workload workload);

// The background load held on one node while the measured phase runs (loadgen/background_load.h).
struct BackgroundOptions {
  size_t watchers = 0;       // --hold-watchers: watch streams held open
  std::string watch_prefix;  // --watch-prefix (default: --key-prefix, so they see every put)
  // --watch-each-key: watcher i watches the workload's key i (modulo --keys) alone, instead of
  // a prefix, so that each put reaches the one or few watchers of its key.
  bool watch_each_key = false;
  size_t leases = 0;                            // --keep-leases: leases granted and kept alive
  std::chrono::milliseconds lease_ttl{10'000};  // --lease-ttl
  std::chrono::milliseconds keepalive_interval{1'000};  // --keepalive-interval
  size_t lease_connections = 1;                         // --lease-connections (resolved)
  // --keepalive-batch: leases kept alive per request; 1 is one POST /leases/{id}/keepalive each,
  // more is one POST /leases/keepalive per group of that many.
  size_t keepalive_batch = 1;
  // --background-server; ToOptions sets the first --server when it is not given.
  std::optional<client::ServerAddress> server;
};

struct BenchOptions {
  Target target = Target::kNds;
  Workload workload = Workload::kPut;
  double read_ratio = 0.5;  // mixed and blob: the share of operations that are reads
  uint64_t key_count = 1000;
  size_t value_bytes = 100;
  size_t txn_ops = 4;  // txn: puts per transaction
  size_t connections = 16;
  size_t threads = 1;
  // At least one of these two ends the run (whichever comes first).
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<uint64_t> op_count;
  // Open loop at this many operations per second in total; closed loop when absent.
  std::optional<double> rate_per_second;
  // Connection i goes to servers[i % size()] (or all to servers[0] with one_server).
  std::vector<client::ServerAddress> servers;
  bool one_server = false;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds connect_timeout{2'000};
  // Consecutive failed connects (or lost connections) after which a connection gives up.
  size_t reconnects_max = 20;
  // Write every key once before the measured run (reads then find their key).
  bool preload = true;
  std::string key_prefix = "bench/";
  uint64_t seed = 1;
  // Sent as "Authorization: Bearer <auth_token>" on every nds request when not empty.
  std::string auth_token;
  client::ClientTlsOptions tls;  // for https:// servers
  BackgroundOptions background;

  // kInvalidArgument naming the flag for: no servers, neither duration nor op count, a zero or
  // out-of-range count, size, rate, ratio or timeout, more threads than connections.
  Status Validate() const;
  // Whether this run writes every key before measuring (only workloads that read).
  bool ShouldPreload() const;
  // Whether watchers or leases are held in the background of the measured phase.
  bool HasBackground() const { return background.watchers > 0 || background.leases > 0; }
};

// Parses "10s", "500ms", "2m", "1h", "250us" or a bare number of seconds ("1.5"). kInvalidArgument
// for anything else, a negative or zero value, or more than kDurationMax.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// Parses "100", "4k"/"4KiB"/"4KB" (x1024), "1M"/"1MiB"/"1MB" (x1024^2). kInvalidArgument for
// anything else or more than kValueBytesMax.
Result<size_t> ParseBytes(std::string_view text);

// The raw flag values as CLI11 fills them; ToOptions validates them.
struct BenchFlags {
  std::string workload = "put";
  std::string target = "nds";
  double read_ratio = 0.5;
  uint64_t key_count = 1000;
  std::string value_size;  // empty: 100 B, or 1 MiB for the blob workload
  size_t txn_ops = 4;
  size_t connections = 16;
  size_t threads = 0;  // 0: min(connections, hardware threads, 4)
  std::string duration;
  std::optional<uint64_t> op_count;
  std::optional<double> rate_per_second;
  bool one_server = false;
  double timeout_seconds = 10;
  double connect_timeout_seconds = 2;
  size_t reconnects_max = 20;
  bool no_preload = false;
  std::string key_prefix = "bench/";
  uint64_t seed = 1;
  bool json = false;
  bool no_progress = false;
  std::string token_file;        // --token-file; NDS_AUTH_TOKEN when empty
  client::ClientTlsOptions tls;  // --cacert, --cert, --key (see AddClientTlsFlags)
  size_t hold_watchers = 0;
  std::optional<std::string> watch_prefix;
  bool watch_each_key = false;
  size_t keep_leases = 0;
  std::string lease_ttl = "10s";
  std::string keepalive_interval = "1s";
  size_t lease_connections = 0;  // 0: one per kLeasesPerConnectionAuto leases
  size_t keepalive_batch = 1;
  std::string background_server;  // empty: the first --server

  // Builds validated options against `servers_text` ("HOST:PORT[,HOST:PORT...]").
  Result<BenchOptions> ToOptions(std::string_view servers_text) const;
};

// Adds --cacert (NDS_CACERT), --cert (NDS_CERT) and --key (NDS_KEY), for https:// servers, to
// `app`, writing into `*tls`. `nds` adds them once as global flags; nds-bench adds them itself.
void AddClientTlsFlags(CLI::App* app, client::ClientTlsOptions* tls);

// The --cacert/--cert/--key values that AddClientTlsFlags put on `app` (given on the command line
// or through the environment), for subcommands registered beside them (start's --join, bench,
// check); empty fields when `app` has no such flags or they were not given.
client::ClientTlsOptions ClientTlsFlagValues(const CLI::App& app);

// Adds the bench flags to `command`, writing into `*flags` (which must outlive parsing). Does not
// add --server or --timeout: `nds` has them as global flags (the caller passes them on).
void AddBenchFlags(CLI::App* command, BenchFlags* flags);

}  // namespace nds::loadgen

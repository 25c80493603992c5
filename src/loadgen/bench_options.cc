// Bench options: validation, duration/size parsing and the CLI11 flags (bench_options.h).
#include "loadgen/bench_options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

#include <fmt/format.h>

namespace nds::loadgen {
namespace {

// Splits "12.5ms" into 12.5 and "ms". Returns false when no number leads.
bool SplitNumber(std::string_view text, double* number, std::string_view* suffix) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *number);
  if (ec != std::errc() || end == text.data()) return false;
  *suffix = text.substr(static_cast<size_t>(end - text.data()));
  return std::isfinite(*number);
}

Status ValidateBackground(const BackgroundOptions& b) {
  if (b.watchers > kHeldWatchersMax) {
    return InvalidArgument(fmt::format("--hold-watchers must be at most {}", kHeldWatchersMax));
  }
  if (b.leases > kKeptLeasesMax) {
    return InvalidArgument(fmt::format("--keep-leases must be at most {}", kKeptLeasesMax));
  }
  if (b.watch_prefix.size() > kKeyPrefixBytesMax) {
    return InvalidArgument(
        fmt::format("--watch-prefix must be at most {} bytes", kKeyPrefixBytesMax));
  }
  if (b.leases > 0 && (b.lease_connections == 0 || b.lease_connections > kLeaseConnectionsMax ||
                       b.lease_connections > b.leases)) {
    return InvalidArgument(fmt::format(
        "--lease-connections must be between 1 and min({}, --keep-leases)", kLeaseConnectionsMax));
  }
  if (b.keepalive_batch == 0 || b.keepalive_batch > kKeepaliveBatchMax) {
    return InvalidArgument(
        fmt::format("--keepalive-batch must be between 1 and {}", kKeepaliveBatchMax));
  }
  if (b.lease_ttl < std::chrono::seconds(1) || b.lease_ttl > std::chrono::hours(24)) {
    return InvalidArgument("--lease-ttl must be between 1s and 24h");
  }
  if (b.keepalive_interval < std::chrono::milliseconds(10) ||
      b.keepalive_interval > std::chrono::hours(1)) {
    return InvalidArgument("--keepalive-interval must be between 10ms and 1h");
  }
  if ((b.watchers > 0 || b.leases > 0) && !b.server) {
    return InvalidArgument("--background-server: no server given");
  }
  return Status::Ok();
}

// Fills the background options from the flags; `o.servers` and `o.key_prefix` must be set.
Status BackgroundFromFlags(const BenchFlags& f, BenchOptions* o) {
  BackgroundOptions& b = o->background;
  b.watchers = f.hold_watchers;
  if (f.watch_each_key && f.watch_prefix) {
    return InvalidArgument("give --watch-prefix or --watch-each-key, not both");
  }
  b.watch_prefix = f.watch_prefix.value_or(o->key_prefix);
  b.watch_each_key = f.watch_each_key;
  b.leases = f.keep_leases;
  Result<std::chrono::nanoseconds> ttl = ParseDuration(f.lease_ttl);
  if (!ttl.ok()) return InvalidArgument("--lease-ttl: " + ttl.status().message());
  b.lease_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(*ttl);
  Result<std::chrono::nanoseconds> interval = ParseDuration(f.keepalive_interval);
  if (!interval.ok()) {
    return InvalidArgument("--keepalive-interval: " + interval.status().message());
  }
  b.keepalive_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
  b.keepalive_batch = f.keepalive_batch;
  b.lease_connections =
      f.lease_connections != 0
          ? f.lease_connections
          : std::clamp<size_t>((b.leases + kLeasesPerConnectionAuto - 1) / kLeasesPerConnectionAuto,
                               1, kLeaseConnectionsAutoMax);
  if (!f.background_server.empty()) {
    Result<std::vector<client::ServerAddress>> one = client::ParseServerList(f.background_server);
    if (!one.ok()) return InvalidArgument("--background-server: " + one.status().message());
    if (one->size() != 1) return InvalidArgument("--background-server takes one HOST:PORT");
    b.server = one->front();
  } else if (!o->servers.empty()) {
    b.server = o->servers.front();
  }
  return Status::Ok();
}

}  // namespace

void AssignKey(std::string* key, std::string_view prefix, uint64_t index) {
  key->assign(prefix);
  fmt::format_to(std::back_inserter(*key), "{:010}", index);
}

std::string_view WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kPut:
      return "put";
    case Workload::kGet:
      return "get";
    case Workload::kMixed:
      return "mixed";
    case Workload::kCas:
      return "cas";
    case Workload::kTxn:
      return "txn";
    case Workload::kBlob:
      return "blob";
  }
  return "?";
}

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  double number = 0;
  std::string_view suffix;
  if (!SplitNumber(text, &number, &suffix)) {
    return InvalidArgument(fmt::format("'{}' is not a duration (e.g. 10s, 500ms, 2m)", text));
  }
  double ns_per_unit = 0;
  if (suffix.empty() || suffix == "s") {
    ns_per_unit = 1e9;
  } else if (suffix == "ms") {
    ns_per_unit = 1e6;
  } else if (suffix == "us") {
    ns_per_unit = 1e3;
  } else if (suffix == "m") {
    ns_per_unit = 60e9;
  } else if (suffix == "h") {
    ns_per_unit = 3600e9;
  } else {
    return InvalidArgument(fmt::format("'{}' has an unknown unit (use us, ms, s, m or h)", text));
  }
  const double ns = number * ns_per_unit;
  if (!(ns >= 1)) return InvalidArgument(fmt::format("duration '{}' must be positive", text));
  if (ns > std::chrono::duration<double, std::nano>(kDurationMax).count()) {
    return InvalidArgument(fmt::format("duration '{}' is longer than 24h", text));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(ns));
}

Result<size_t> ParseBytes(std::string_view text) {
  double number = 0;
  std::string_view suffix;
  if (!SplitNumber(text, &number, &suffix) || number < 0) {
    return InvalidArgument(fmt::format("'{}' is not a size (e.g. 100, 4KiB, 1MiB)", text));
  }
  double multiplier = 0;
  if (suffix.empty() || suffix == "B") {
    multiplier = 1;
  } else if (suffix == "k" || suffix == "K" || suffix == "KiB" || suffix == "KB") {
    multiplier = 1024;
  } else if (suffix == "M" || suffix == "MiB" || suffix == "MB") {
    multiplier = 1024.0 * 1024;
  } else {
    return InvalidArgument(fmt::format("'{}' has an unknown unit (use B, KiB or MiB)", text));
  }
  const double bytes = number * multiplier;
  if (bytes > static_cast<double>(kValueBytesMax) || bytes != std::floor(bytes)) {
    return InvalidArgument(
        fmt::format("size '{}' must be a whole number of bytes up to {}", text, kValueBytesMax));
  }
  return static_cast<size_t>(bytes);
}

bool BenchOptions::ShouldPreload() const {
  return preload && workload != Workload::kPut && workload != Workload::kTxn;
}

Status BenchOptions::Validate() const {
  if (servers.empty()) return InvalidArgument("--server: no server given");
  if (!duration && !op_count) {
    return InvalidArgument("give --duration or --ops (a run must be bounded)");
  }
  if (duration && (duration->count() <= 0 || *duration > kDurationMax)) {
    return InvalidArgument("--duration must be positive and at most 24h");
  }
  if (op_count && (*op_count == 0 || *op_count > kOpCountMax)) {
    return InvalidArgument(fmt::format("--ops must be between 1 and {}", kOpCountMax));
  }
  if (connections == 0 || connections > kConnectionsMax) {
    return InvalidArgument(fmt::format("--concurrency must be between 1 and {}", kConnectionsMax));
  }
  if (threads == 0 || threads > kThreadsMax || threads > connections) {
    return InvalidArgument(
        fmt::format("--threads must be between 1 and min({}, --concurrency)", kThreadsMax));
  }
  if (key_count == 0 || key_count > kKeyCountMax) {
    return InvalidArgument(fmt::format("--keys must be between 1 and {}", kKeyCountMax));
  }
  if (value_bytes > kValueBytesMax) {
    return InvalidArgument(fmt::format("--value-size must be at most {} bytes", kValueBytesMax));
  }
  if (!(read_ratio >= 0 && read_ratio <= 1)) {
    return InvalidArgument("--read-ratio must be between 0 and 1");
  }
  if (rate_per_second && !(*rate_per_second > 0 && *rate_per_second <= kRatePerSecondMax)) {
    return InvalidArgument(fmt::format("--rate must be above 0 and at most {}", kRatePerSecondMax));
  }
  if (request_timeout.count() <= 0 || connect_timeout.count() <= 0) {
    return InvalidArgument("--timeout and --connect-timeout must be at least 1 ms");
  }
  if (reconnects_max > kReconnectsMax) {
    return InvalidArgument(fmt::format("--reconnects must be at most {}", kReconnectsMax));
  }
  if (txn_ops == 0 || txn_ops > kTxnOpsMax) {
    return InvalidArgument(fmt::format("--txn-ops must be between 1 and {}", kTxnOpsMax));
  }
  if (workload == Workload::kTxn && target != Target::kNds) {
    return InvalidArgument("--workload txn measures nds's POST /txn: --target nds only");
  }
  if (key_prefix.size() > kKeyPrefixBytesMax) {
    return InvalidArgument(
        fmt::format("--key-prefix must be at most {} bytes", kKeyPrefixBytesMax));
  }
  return ValidateBackground(background);
}

Result<BenchOptions> BenchFlags::ToOptions(std::string_view servers_text) const {
  BenchOptions o;
  NDS_ASSIGN_OR_RETURN(o.servers, client::ParseServerList(servers_text));
  NDS_ASSIGN_OR_RETURN(o.auth_token, client::CommandLineAuthToken(token_file));
  o.tls = tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgument("--cert and --key go together");
  }
  if (workload == "put") {
    o.workload = Workload::kPut;
  } else if (workload == "get") {
    o.workload = Workload::kGet;
  } else if (workload == "mixed") {
    o.workload = Workload::kMixed;
  } else if (workload == "cas") {
    o.workload = Workload::kCas;
  } else if (workload == "blob") {
    o.workload = Workload::kBlob;
  } else if (workload == "txn") {
    o.workload = Workload::kTxn;
  } else {
    return InvalidArgument(
        fmt::format("--workload '{}' is not one of put, get, mixed, cas, blob, txn", workload));
  }
  if (target == "nds") {
    o.target = Target::kNds;
  } else if (target == "etcd") {
    o.target = Target::kEtcd;
  } else {
    return InvalidArgument(fmt::format("--target '{}' is not one of nds, etcd", target));
  }
  o.read_ratio = read_ratio;
  o.txn_ops = txn_ops;
  o.key_count = key_count;
  if (value_size.empty()) {
    o.value_bytes = o.workload == Workload::kBlob ? size_t{1} << 20 : 100;
  } else {
    Result<size_t> bytes = ParseBytes(value_size);
    if (!bytes.ok()) return InvalidArgument("--value-size: " + bytes.status().message());
    o.value_bytes = *bytes;
  }
  o.connections = connections;
  o.threads = threads != 0 ? threads
                           : std::clamp<size_t>(std::thread::hardware_concurrency(), 1,
                                                std::min<size_t>(connections, 4));
  if (!duration.empty()) {
    Result<std::chrono::nanoseconds> d = ParseDuration(duration);
    if (!d.ok()) return InvalidArgument("--duration: " + d.status().message());
    o.duration = *d;
  }
  o.op_count = op_count;
  o.rate_per_second = rate_per_second;
  o.one_server = one_server;
  const auto seconds_to_ms = [](double s) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::clamp(s, 0.0, 3600.0) * 1000));
  };
  o.request_timeout = seconds_to_ms(timeout_seconds);
  o.connect_timeout = seconds_to_ms(connect_timeout_seconds);
  o.reconnects_max = reconnects_max;
  o.preload = !no_preload;
  o.key_prefix = key_prefix;
  o.seed = seed;
  NDS_RETURN_IF_ERROR(BackgroundFromFlags(*this, &o));
  NDS_RETURN_IF_ERROR(o.Validate());
  return o;
}

void AddClientTlsFlags(CLI::App* app, client::ClientTlsOptions* tls) {
  app->add_option("--cacert", tls->ca_file,
                  "PEM file of the CA that https:// servers' certificates must chain to "
                  "(default: the system's CAs)")
      ->envname("NDS_CACERT");
  app->add_option("--cert", tls->cert_file,
                  "PEM client certificate, for servers that require one (--tls-client-ca)")
      ->envname("NDS_CERT");
  app->add_option("--key", tls->key_file, "PEM private key of --cert")->envname("NDS_KEY");
}

client::ClientTlsOptions ClientTlsFlagValues(const CLI::App& app) {
  auto value = [&app](const std::string& name) {
    const CLI::Option* option = app.get_option_no_throw(name);
    return option != nullptr && option->count() > 0 ? option->as<std::string>() : std::string();
  };
  return client::ClientTlsOptions{value("--cacert"), value("--cert"), value("--key")};
}

void AddBenchFlags(CLI::App* command, BenchFlags* flags) {
  command->add_option("-w,--workload", flags->workload, "put, get, mixed, cas, blob or txn")
      ->capture_default_str();
  command->add_option("--target", flags->target, "Server protocol: nds, or etcd's JSON gateway")
      ->capture_default_str();
  command
      ->add_option("--read-ratio", flags->read_ratio,
                   "mixed/blob: share of operations that are reads (0..1)")
      ->capture_default_str();
  command->add_option("--txn-ops", flags->txn_ops, "txn workload: puts per transaction")
      ->capture_default_str();
  command->add_option("-k,--keys", flags->key_count, "Number of distinct keys")
      ->capture_default_str();
  command->add_option("-s,--value-size", flags->value_size,
                      "Value size: 100, 4KiB, 1MiB (default 100; blob: 1MiB)");
  command->add_option("-c,--concurrency", flags->connections, "Keep-alive connections")
      ->capture_default_str();
  command->add_option("--threads", flags->threads,
                      "Threads, each with its own event loop (default: up to 4)");
  command->add_option("-d,--duration", flags->duration, "Run for this long: 10s, 500ms, 2m");
  command->add_option("-n,--ops", flags->op_count, "Run this many operations in total");
  command->add_option("--rate", flags->rate_per_second,
                      "Open loop at this many ops/s in total; latency counts from the intended "
                      "send time (default: closed loop)");
  command->add_flag("--one-server", flags->one_server,
                    "Aim every connection at the first --server (default: spread round-robin)");
  command
      ->add_option("--request-timeout", flags->timeout_seconds,
                   "Seconds before a request counts as timed out")
      ->capture_default_str();
  command
      ->add_option("--connect-timeout", flags->connect_timeout_seconds,
                   "Seconds before a connect counts as failed")
      ->capture_default_str();
  command
      ->add_option("--reconnects", flags->reconnects_max,
                   "Consecutive connection failures after which a connection gives up")
      ->capture_default_str();
  command->add_flag("--no-preload", flags->no_preload,
                    "Do not write every key before a workload that reads");
  command->add_option("--key-prefix", flags->key_prefix, "Prefix of every key written")
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of the key and operation choice")
      ->capture_default_str();
  command->add_option("--hold-watchers", flags->hold_watchers,
                      "Hold this many watch streams open on the background server while the "
                      "measured phase runs, counting the events they receive");
  command->add_option("--watch-prefix", flags->watch_prefix,
                      "The prefix the held watchers watch (default: --key-prefix, so each "
                      "receives every write)");
  command->add_flag("--watch-each-key", flags->watch_each_key,
                    "Each held watcher watches one key of the workload (watcher i key i, modulo "
                    "--keys) instead of a prefix");
  command->add_option("--keep-leases", flags->keep_leases,
                      "Grant this many leases before the measured phase, keep each alive every "
                      "--keepalive-interval through the background server, revoke them after");
  command->add_option("--lease-ttl", flags->lease_ttl, "TTL of the kept leases")
      ->capture_default_str();
  command
      ->add_option("--keepalive-interval", flags->keepalive_interval,
                   "How often each kept lease is kept alive")
      ->capture_default_str();
  command
      ->add_option("--keepalive-batch", flags->keepalive_batch,
                   "Leases kept alive per request: 1 sends POST /leases/{id}/keepalive for each; "
                   "N > 1 sends one POST /leases/keepalive per N consecutive leases of a "
                   "connection, due when the first of them is (at most 1000)")
      ->capture_default_str();
  command->add_option("--lease-connections", flags->lease_connections,
                      "Connections that grant and keep the leases (default: one per 10 leases, "
                      "at most 1000)");
  command->add_option("--background-server", flags->background_server,
                      "HOST:PORT of the node that holds the watchers and receives the "
                      "keepalives (default: the first --server)");
  command->add_flag("--json", flags->json, "Print the final report as one JSON object");
  command->add_flag("--no-progress", flags->no_progress, "No live progress line on stderr");
}

}  // namespace nds::loadgen

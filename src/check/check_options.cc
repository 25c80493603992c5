// Validation and parsing of `nds check` options (see check_options.h).
#include "check/check_options.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "client/options.h"
#include "loadgen/bench_options.h"

namespace nds::check {
namespace {

// "all": the kinds that need no root.
constexpr FaultKind kAllFaults[] = {FaultKind::kKill, FaultKind::kRestart, FaultKind::kPause,
                                    FaultKind::kLeader, FaultKind::kMember};
constexpr FaultKind kKnownFaults[] = {FaultKind::kKill,   FaultKind::kRestart,
                                      FaultKind::kPause,  FaultKind::kLeader,
                                      FaultKind::kMember, FaultKind::kPartition};

Result<std::chrono::milliseconds> ParseMillis(std::string_view flag, std::string_view text) {
  Result<std::chrono::nanoseconds> parsed = loadgen::ParseDuration(text);
  if (!parsed.ok()) {
    return InvalidArgument(fmt::format("{}: {}", flag, parsed.status().message()));
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kRestart:
      return "restart";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kLeader:
      return "leader";
    case FaultKind::kMember:
      return "member";
    case FaultKind::kPartition:
      return "partition";
  }
  return "?";
}

Result<std::vector<FaultKind>> ParseFaults(std::string_view text) {
  std::vector<FaultKind> kinds;
  if (text.empty() || text == "none") return kinds;
  if (text == "all") return std::vector<FaultKind>(std::begin(kAllFaults), std::end(kAllFaults));
  while (true) {
    size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    auto it = std::find_if(std::begin(kKnownFaults), std::end(kKnownFaults),
                           [name](FaultKind k) { return FaultKindName(k) == name; });
    if (it == std::end(kKnownFaults)) {
      return InvalidArgument(fmt::format(
          "--faults: unknown fault '{}' (kill, restart, pause, leader, member, partition, all)",
          name));
    }
    if (std::find(kinds.begin(), kinds.end(), *it) == kinds.end()) kinds.push_back(*it);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

Status CheckOptions::Validate() const {
  if ((local_nodes == 0) == servers.empty()) {
    return InvalidArgument("give either --local N (a cluster to start) or --server (one to use)");
  }
  if (local_nodes > kLocalNodesMax) {
    return InvalidArgument(fmt::format("--local: at most {} nodes", kLocalNodesMax));
  }
  if (local_nodes > 0 && binary.empty()) {
    return InvalidArgument("--local: the nds executable is unknown");
  }
  if (clients == 0 || clients > kClientsMax) {
    return InvalidArgument(fmt::format("--clients: 1 to {}", kClientsMax));
  }
  if (keys == 0 || keys > kKeysMax)
    return InvalidArgument(fmt::format("--keys: 1 to {}", kKeysMax));
  if (!duration && !ops) return InvalidArgument("--duration or --ops is required");
  if (duration && (duration->count() <= 0 || *duration > kDurationMax)) {
    return InvalidArgument("--duration: more than 0 and at most 1h");
  }
  if (ops && (*ops == 0 || *ops > kOpsMax)) {
    return InvalidArgument(fmt::format("--ops: 1 to {}", kOpsMax));
  }
  if (!faults.empty() && local_nodes == 0) {
    return InvalidArgument("--faults: only on a local cluster (--local N) that nds check starts");
  }
  if (fault_interval < kFaultIntervalMin || fault_interval > kFaultIntervalMax) {
    return InvalidArgument("--fault-interval: 200ms to 60s");
  }
  if (request_timeout.count() <= 0 || request_timeout > kRequestTimeoutMax) {
    return InvalidArgument("--request-timeout: more than 0 and at most 60s");
  }
  if (!resp_servers.empty() && (protocol != Protocol::kResp || local_nodes > 0)) {
    return InvalidArgument("--resp-server: only with --protocol resp and --server");
  }
  if (protocol == Protocol::kResp && local_nodes == 0 && resp_servers.size() != servers.size()) {
    return InvalidArgument(
        "--protocol resp with --server needs --resp-server: one RESP HOST:PORT per server, in the "
        "same order");
  }
  if (protocol == Protocol::kResp &&
      std::find(faults.begin(), faults.end(), FaultKind::kMember) != faults.end()) {
    // A node added by the fault would have no RESP listener of its own.
    return InvalidArgument("--faults member: not with --protocol resp");
  }
  if (std::find(faults.begin(), faults.end(), FaultKind::kPartition) != faults.end() &&
      (protocol == Protocol::kResp || !tls.ca_file.empty())) {
    // Partitioned nodes listen on their namespace's address, not on 127.0.0.1.
    return InvalidArgument("--faults partition: over HTTP only, without --cacert");
  }
  if (value_bytes > kValueBytesMax) {
    return InvalidArgument(fmt::format("--value-bytes: at most {}", kValueBytesMax));
  }
  if (value_bytes != 0 && workload != Workload::kWatch) {
    return InvalidArgument("--value-bytes: only with --workload watch");
  }
  if (workload != Workload::kRegister && !duration) {
    return InvalidArgument("--workload: watch, lease and lock runs end by --duration, not --ops");
  }
  if (workload != Workload::kRegister && protocol != Protocol::kHttp) {
    return InvalidArgument(
        "--workload: watch, lease and lock run over HTTP only (--protocol http)");
  }
  return Status::Ok();
}

Result<CheckOptions> CheckFlags::ToOptions(std::string_view servers_text, bool use_servers,
                                           std::string binary, uint64_t random_seed) const {
  CheckOptions o;
  o.local_nodes = local_nodes;
  NDS_ASSIGN_OR_RETURN(o.auth_token, client::CommandLineAuthToken(token_file));
  if (use_servers && local_nodes == 0) {
    NDS_ASSIGN_OR_RETURN(std::vector<client::ServerAddress> addresses,
                         client::ParseServerList(servers_text));
    for (const client::ServerAddress& a : addresses) o.servers.push_back(a.ToString());
  }
  o.tls = tls;  // a local cluster serves HTTPS when its --node-arg flags say so
  o.token_file = token_file;
  o.node_args = node_args;
  o.binary = std::move(binary);
  o.clients = clients;
  o.keys = keys;
  o.value_bytes = value_bytes;
  if (!duration.empty()) {
    NDS_ASSIGN_OR_RETURN(o.duration, ParseMillis("--duration", duration));
  }
  o.ops = ops;
  if (!o.duration && !o.ops) o.duration = kDefaultDuration;
  NDS_ASSIGN_OR_RETURN(o.faults, ParseFaults(faults));
  NDS_ASSIGN_OR_RETURN(o.fault_interval, ParseMillis("--fault-interval", fault_interval));
  NDS_ASSIGN_OR_RETURN(o.request_timeout, ParseMillis("--request-timeout", request_timeout));
  o.seed = seed.value_or(random_seed);
  o.json = json;
  o.history_path = history_path;
  NDS_ASSIGN_OR_RETURN(o.protocol, ParseProtocol(protocol));
  if (!resp_servers.empty()) {
    NDS_ASSIGN_OR_RETURN(std::vector<client::ServerAddress> addresses,
                         client::ParseServerList(resp_servers));
    for (const client::ServerAddress& a : addresses) {
      if (a.tls) return InvalidArgument("--resp-server: RESP has no TLS: HOST:PORT only");
      o.resp_servers.push_back(a.ToString());
    }
  }
  NDS_ASSIGN_OR_RETURN(o.workload, ParseWorkload(workload));
  NDS_RETURN_IF_ERROR(o.Validate());
  return o;
}

}  // namespace nds::check

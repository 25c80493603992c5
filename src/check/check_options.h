// What one `nds check` run does (CheckOptions, validated) and the raw flag values it is built from
// (CheckFlags). docs/check.md describes every flag; cli/check_command.cc registers them.
//
// Plain value types.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/register_ops.h"
#include "check/workload.h"
#include "client/options.h"
#include "util/status.h"

namespace nds::check {

// Bounds of the flags (STYLE.md §6: everything has a limit).
inline constexpr size_t kClientsMax = 64;
inline constexpr size_t kKeysMax = 1000;
// --value-bytes: the watch workload's values padded to this size at most.
inline constexpr size_t kValueBytesMax = 1 << 20;
inline constexpr size_t kLocalNodesMax = 7;
inline constexpr uint64_t kOpsMax = 1'000'000;  // also the history's capacity
inline constexpr std::chrono::hours kDurationMax{1};
inline constexpr std::chrono::milliseconds kFaultIntervalMin{200};
inline constexpr std::chrono::milliseconds kFaultIntervalMax{60'000};
inline constexpr std::chrono::milliseconds kRequestTimeoutMax{60'000};
// Without --duration and --ops a run lasts this long.
inline constexpr std::chrono::seconds kDefaultDuration{10};

enum class FaultKind : uint8_t {
  kKill = 0,     // SIGKILL a random node, restart it after a while
  kRestart = 1,  // SIGTERM a random node (a clean stop), restart it after a while
  kPause = 2,    // SIGSTOP a random node, SIGCONT it after a while
  kLeader = 3,   // SIGKILL the node answering goose, restart it after a while
  kMember = 4,   // remove a node that is not the goose from the cluster, then add a new node
  // Cut a random node off from the others (needs root: each node in a network namespace); not in
  // "all", which runs without root.
  kPartition = 5,
};

// Returns "kill", "restart", "pause", "leader", "member" or "partition".
std::string_view FaultKindName(FaultKind kind);

// Parses a comma-separated list of fault names ("kill,pause"), or "all" (every kind but
// partition, which needs root). Duplicates are merged;
// the result is in FaultKind order. kInvalidArgument names an unknown entry; "" or "none" is the
// empty list.
Result<std::vector<FaultKind>> ParseFaults(std::string_view text);

struct CheckOptions {
  // Exactly one of these: a local cluster of `local_nodes` nodes that the run starts and stops,
  // or the API addresses of an existing cluster.
  size_t local_nodes = 0;
  std::vector<std::string> servers;  // "host:port", or "https://host:port"
  client::ClientTlsOptions tls;      // for https:// servers (--cacert, --cert, --key)
  // Extra arguments for every `nds start` of the local cluster (e.g. "--heartbeat-ms=50").
  std::vector<std::string> node_args;
  // The `nds` executable that the local cluster runs.
  std::string binary;

  size_t clients = 8;
  size_t keys = 5;
  // The watch workload's values are padded to at least this many bytes (0: as they are).
  size_t value_bytes = 0;
  // The run ends at whichever comes first; at least one is set.
  std::optional<std::chrono::milliseconds> duration;
  std::optional<uint64_t> ops;
  std::vector<FaultKind> faults;  // only with local_nodes > 0
  std::chrono::milliseconds fault_interval{2'000};
  std::chrono::milliseconds request_timeout{3'000};
  uint64_t seed = 1;
  bool json = false;
  std::string history_path;  // when not empty, the recorded history is written there
  // Sent as "Authorization: Bearer <auth_token>" by every client when not empty.
  std::string auth_token;
  // --token-file: with --local and `--node-arg --auth`, also the first node's --root-token-file.
  std::string token_file;
  // How the register operations are sent (register_ops.h). kResp: a local cluster's nodes get a
  // --resp listener each; with servers, resp_servers[i] is the RESP address of servers[i].
  Protocol protocol = Protocol::kHttp;
  std::vector<std::string> resp_servers;
  // What the clients do (workload.h); kRegister is the linearizability check of registers.
  Workload workload = Workload::kRegister;

  // kInvalidArgument naming the flag for: neither or both of local_nodes and servers, a count or
  // duration out of its bounds, faults without a local cluster, neither duration nor ops, RESP
  // servers that do not match the servers one for one, --value-bytes beyond its bound or without
  // the watch workload, the member fault over RESP, the partition fault over RESP or HTTPS (the
  // nodes' addresses are not 127.0.0.1 then).
  Status Validate() const;
};

// The raw flag values as CLI11 fills them; ToOptions validates them.
struct CheckFlags {
  size_t local_nodes = 0;
  std::vector<std::string> node_args;
  size_t clients = 8;
  size_t keys = 5;
  size_t value_bytes = 0;
  std::string duration;  // "30s", "500ms", ... (loadgen::ParseDuration)
  std::optional<uint64_t> ops;
  std::string faults;
  std::string fault_interval = "2s";
  std::string request_timeout = "3s";
  std::optional<uint64_t> seed;
  bool json = false;
  std::string history_path;
  std::string token_file;        // --token-file; NDS_AUTH_TOKEN when empty
  client::ClientTlsOptions tls;  // filled by the caller from --cacert/--cert/--key
  std::string protocol = "http";
  std::string resp_servers;  // HOST:PORT[,...]
  std::string workload = "register";

  // Builds validated options. `servers_text` ("HOST:PORT[,...]") is used only when `use_servers`
  // (the user gave --server or NDS_SERVER); `binary` is the executable for a local cluster;
  // `random_seed` is taken when no --seed was given.
  Result<CheckOptions> ToOptions(std::string_view servers_text, bool use_servers,
                                 std::string binary, uint64_t random_seed) const;
};

}  // namespace nds::check

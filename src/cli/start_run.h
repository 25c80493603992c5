// The flags of `nds start` once parsed (StartFlags), and the two steps that use them: settling who
// this node is (StartIdentity: restart, new cluster or join) and running the node until a stop
// signal (RunNode). The flags are declared in start_command.cc and start_flags.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "cli/log_setup.h"
#include "cli/tls_flags.h"
#include "client/options.h"
#include "net/tls_context.h"
#include "node/raft_node.h"
#include "util/limits.h"
#include "util/status.h"

namespace nds::cli {

struct StartFlags {
  std::string name = "node1";
  std::string api = "0.0.0.0:7777";
  std::string peer = "0.0.0.0:7778";
  std::string data = "./nds-data";
  std::string engine = "rocksdb";
  std::string join;
  std::string token;
  std::string token_file;       // the join token from a file instead of the command line
  bool auth = false;            // a new cluster requires bearer tokens (docs/security.md)
  std::string root_token_file;  // with --auth: the root token to use instead of a new one
  size_t auth_tokens_max = 1000;
  std::string advertise_api;   // default: --api, with a wildcard host replaced by the host name
  std::string advertise_peer;  // default: --peer, likewise
  std::chrono::milliseconds join_timeout{60'000};
  bool lease_reads = false;
  size_t io_threads = 2;
  std::string resp;  // HOST:PORT of the RESP front; empty: off
  // Threads serving RESP. One by default: a RESP command is little work for its thread (the
  // store's work is on the node's threads), and one thread answers more GETs than two on a small
  // machine (docs/benchmarks.md "One RESP thread").
  size_t resp_threads = 1;
  Limits limits;
  net::TlsServerFiles tls;            // --tls-cert, --tls-key, --tls-client-ca
  client::ClientTlsOptions join_tls;  // the global --cacert/--cert/--key, for --join
  net::PeerTlsFiles peer_tls;         // --peer-tls-cert, --peer-tls-key, --peer-tls-ca
  LogFlags log;                       // --log-level, --log-format
  bool print_config = false;          // --print-config: print the flags' values and exit
};

// nds::ReadSecretFile with `flag` named in its error (kInvalidArgument).
Result<std::string> ReadSecretFile(std::string_view flag, const std::string& path);

// Who this node is: read from DATA/meta on a restart, made for a new cluster, or obtained by
// joining through --join (retried until --join-timeout-ms while the cluster is unavailable). Fills
// the identity fields of `o`; an error says what to do.
Status ResolveIdentity(const StartFlags& f, node::RaftNodeOptions* o);

// Runs the node of `f` until SIGTERM or SIGINT (SIGHUP reloads TLS); the stop signals must be
// blocked in every thread already. The process's exit status: 0 after a stop, 2 for a bad flag,
// 1 when the node cannot start.
int RunNode(const StartFlags& f);

}  // namespace nds::cli

// One real `nds start` child process on 127.0.0.1, restartable on the same data directory and
// ports. The building block of LocalCluster (launcher/local_cluster.h), and through it of
// `nds demo`, `nds check` and the process tests: the one place where a node is spawned, probed,
// signalled and reaped.
//
// The child's stdout and stderr are appended to a log file. It stays in our process group (a
// Ctrl-C on a terminal reaches it too). Every wait is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "client/client.h"
#include "client/http_types.h"
#include "util/status.h"

namespace nds::launcher {

// A client of 127.0.0.1:`port` alone that tries each call once, waiting at most `timeout` for the
// connection and again for the reply: for probes, where a retry would only hide the answer. It
// sends NDS_AUTH_TOKEN, when set, as its bearer token. With a non-empty `https_ca_file`, over
// HTTPS, trusting that CA.
// `host` is 127.0.0.1 unless given (a node in a network namespace: launcher/netns.h).
Result<std::unique_ptr<Client>> ProbeClient(uint16_t port, std::chrono::milliseconds timeout,
                                            const std::string& https_ca_file = "",
                                            const std::string& host = "127.0.0.1");

// GET `target` from 127.0.0.1:`port` on a fresh connection, no retry. The reply of any HTTP
// status; kUnavailable when nothing listens, kTimeout when no reply comes within `timeout`.
Result<client::HttpReply> HttpGet(uint16_t port, const std::string& target,
                                  std::chrono::milliseconds timeout,
                                  const std::string& https_ca_file = "",
                                  const std::string& host = "127.0.0.1");

struct NodeSpec {
  std::string binary;      // path of the `nds` executable
  std::string name;        // --name
  std::string data_dir;    // --data (the node creates it)
  uint16_t api_port = 0;   // --api 127.0.0.1:<api_port>; 0 picks a free port (net::FreePort)
  uint16_t peer_port = 0;  // --peer 127.0.0.1:<peer_port>; 0 likewise. A picked port found taken
                           // at Start is picked again, until the node has once served.
  std::string token;       // --token when non-empty (bootstrap: the token to use; join: the
                           // cluster's token)
  std::string join;        // --join <host:port> when non-empty
  std::vector<std::string> extra_args;  // appended to the command line (limits, --engine, ...)
  std::string log_path;  // stdout+stderr of the child go here (appended); default data_dir + ".log"
  // When set, the node serves HTTPS (its --tls-* flags are in extra_args) and the probes trust
  // this CA.
  std::string https_ca_file;
  // The address the node listens on and is probed at. A node in a network namespace of its own
  // (launcher/netns.h) has its namespace's address here, and `ip netns exec <ns>` in exec_prefix,
  // which goes before the command line.
  std::string host = "127.0.0.1";
  std::vector<std::string> exec_prefix;
};

// Not thread-safe: one thread drives a NodeProcess.
class NodeProcess {
 public:
  explicit NodeProcess(NodeSpec spec);
  ~NodeProcess();  // SIGKILLs and reaps the child if it still runs
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Spawns the child and waits up to `timeout` until GET /healthz answers 200. Returns
  // kFailedPrecondition when it already runs, kUnavailable when its API or peer port is taken by
  // another process, when it cannot be spawned, or when it exits first, kTimeout when it does not
  // answer in time (the child is then killed). Each message is one line naming the node, the
  // last line of its log and the log's path.
  Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends `sig` (SIGCONT too, when paused) and waits up to `timeout` for the exit. Returns the
  // exit status (128+signal when killed by a signal); kFailedPrecondition when it does not run;
  // kTimeout when it still runs (it is left running).
  Result<int> Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` when the child runs; SIGSTOP and SIGCONT also set paused().
  void Signal(int sig);
  // Reaps the child if it exited on its own; true while it runs.
  bool Running();
  // Polls GET `path` until it answers 200, up to `timeout`: kTimeout (kUnavailable when the child
  // exits) otherwise. Precondition: not paused.
  Status WaitFor200(const std::string& path, std::chrono::milliseconds timeout);
  // GET `target` on this node's API (HttpGet).
  Result<client::HttpReply> Get(const std::string& target,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

  pid_t pid() const { return pid_; }
  bool paused() const { return paused_; }
  const NodeSpec& spec() const { return spec_; }
  NodeSpec& mutable_spec() { return spec_; }  // e.g. clear `join` before a restart
  std::string api_address() const;            // "<host>:<api_port>"
  std::string peer_address() const;           // "<host>:<peer_port>"
  // The last `bytes` bytes of the child's log (empty when there is none).
  std::string LogTail(size_t bytes = 4096) const;

 private:
  std::vector<std::string> CommandLine() const;
  Status Spawn();
  // Why the node did not come up: one line with the name, `what`, its last log line, the log.
  std::string Explain(const std::string& what) const;
  // Waits up to `timeout` for the child to exit and reaps it: its exit status, or -1.
  int Reap(std::chrono::milliseconds timeout);

  NodeSpec spec_;
  pid_t pid_ = -1;  // -1 when no child runs (none started, or reaped)
  bool paused_ = false;
  int exit_status_ = -1;  // of the last child reaped (128+signal when killed), -1 when unknown
  bool auto_api_port_ = false;   // api_port was picked here, not given
  bool auto_peer_port_ = false;  // likewise peer_port
  bool started_once_ = false;    // the node has served /healthz at least once
};

}  // namespace nds::launcher

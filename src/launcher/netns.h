// Network namespaces for a local cluster whose links can be cut: `nds check --faults partition`
// and tests/partition_test.cc. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the `ip` tool.
//
// Layout: a bridge in our own namespace holding the address <subnet>.254/24, so that this
// process (the checker's clients, the launcher's probes) reaches every node directly; one
// namespace per node, joined to the bridge by a veth pair, the node's address <subnet>.<i+1>.
// The subnet is one /24 of 198.18.0.0/15 (set aside for network tests, RFC 2544) that no
// interface uses yet. A cut between two nodes is a blackhole route inside a node's namespace, so
// only traffic between nodes is dropped: this process still reaches a cut-off node.
//
// Every name holds our pid (`nds<pid>n<i>` namespaces, `nds<pid>o<i>` veths, `nds<pid>br`), so
// parallel runs do not collide. Cleanup: at creation a reaper child (/bin/sh, ignoring SIGINT,
// SIGTERM and SIGHUP) is started, reading a pipe whose only writer is this process; when the pipe
// closes, whether by the destructor or because this process died (an error, Ctrl-C, SIGKILL), it
// kills every process left in our namespaces and deletes the namespaces, veths and bridge.
//
// Not thread-safe: one thread drives a NetnsNetwork (RunIn may run on any thread).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "util/status.h"

namespace nds::launcher {

// Nodes a network holds (their addresses are <subnet>.1 to <subnet>.kNetnsNodesMax).
inline constexpr size_t kNetnsNodesMax = 64;

class NetnsNetwork {
 public:
  // Makes the bridge and starts the reaper. `log_path` receives the output of every `ip` command.
  // kFailedPrecondition, saying what is missing, when not root or when a namespace cannot be
  // made; kUnavailable when no free subnet is found or a command fails.
  static Result<std::unique_ptr<NetnsNetwork>> Create(const std::string& log_path);
  ~NetnsNetwork();  // closes the reaper's pipe and waits (bounded) until it has cleaned up
  NetnsNetwork(const NetnsNetwork&) = delete;
  NetnsNetwork& operator=(const NetnsNetwork&) = delete;

  // Makes node i's namespace, its veth pair on the bridge and its address Ip(i). No-op when it
  // exists. Precondition: i < kNetnsNodesMax.
  Status AddNode(size_t i);
  std::string Ns(size_t i) const;  // the namespace's name
  std::string Ip(size_t i) const;  // the node's address
  // The argv prefix that runs a program in node i's namespace (`ip netns exec <ns>`, which execs
  // the program in place: its pid is the child's pid).
  std::vector<std::string> ExecPrefix(size_t i) const;

  // Drops every packet from node `from` to node `to` (a blackhole route in from's namespace); a
  // one-way cut (a TCP connection needs both ways, so none between the two survives it).
  Status Block(size_t from, size_t to);
  // Cuts node i off from every other node, both ways.
  Status Isolate(size_t i);
  // Removes every cut.
  Status HealAll();
  bool cut() const { return !blocked_.empty(); }

  // Runs `fn` on a new thread that entered node i's namespace, and joins it (there, 127.0.0.1 is
  // the node's own loopback). kUnavailable when the namespace cannot be entered.
  Status RunIn(size_t i, const std::function<void()>& fn) const;

 private:
  NetnsNetwork() = default;
  Status RunIp(const std::vector<std::string>& args) const;  // runs `ip <args>`, logged
  std::string Tag() const;

  std::string ip_tool_;   // path of `ip`
  std::string log_path_;  // where the `ip` commands write
  pid_t pid_ = 0;         // ours, in every name
  std::string subnet_;    // "198.18.x"
  int reaper_fd_ = -1;    // the write end of the reaper's pipe
  pid_t reaper_pid_ = -1;
  std::set<size_t> nodes_;
  std::set<std::pair<size_t, size_t>> blocked_;  // (from, to)
};

}  // namespace nds::launcher

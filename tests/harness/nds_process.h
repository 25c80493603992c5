// The process tests' handle on one `nds start` child: a fresh data directory, a free loopback
// port, start, wait until it serves, SIGTERM/SIGKILL/SIGSTOP, restart on the same data. A thin
// test-facing face of launcher::NodeProcess (launcher/node_process.h), which does the spawning,
// probing and reaping for the tests, `nds demo` and `nds check` alike.
// Every wait is bounded. Not thread-safe: one test thread drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "launcher/node_process.h"
#include "net/loopback_port.h"

namespace nds::test {

using net::FreePort;

// A new empty directory under $TMPDIR (or /tmp). It and its sibling DIR.log are removed when the
// test process exits with every test passed (kept for a look after a failure, or always with
// NDS_KEEP_TEST_DIRS set). Empty when it cannot be made.
std::string MakeTempDir(const std::string& tag);

class NdsProcess {
 public:
  // Runs `nds start --name node1 --api 127.0.0.1:<free port> --peer 127.0.0.1:<free port>
  // --data <data_dir>` followed by `extra_args`; its output goes to <data_dir>.log.
  NdsProcess(std::string data_dir, std::vector<std::string> extra_args = {});

  // Starts the node and waits (up to `timeout`) until GET /healthz answers 200. Returns false
  // (with the reason and the log's path in `error`) when it exits or does not answer in time.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` and waits up to `timeout` for the exit; returns the exit status (128+signal when
  // killed by one), or -1 when it did not run or did not exit in time (it is then SIGKILLed).
  int Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Signal(int sig) { process_.Signal(sig); }

  bool running() { return process_.Running(); }
  pid_t pid() const { return process_.pid(); }  // -1 when not running
  uint16_t port() const { return process_.spec().api_port; }
  const std::string& data_dir() const { return process_.spec().data_dir; }
  std::string address() const { return process_.api_address(); }
  std::string error;  // why Start failed
  std::string LogTail() const { return process_.LogTail(2000); }

 private:
  launcher::NodeProcess process_;
};

}  // namespace nds::test

// Runs the real `nds` binary as a child process for process tests: a fresh data directory, a free
// loopback port, start, wait until it serves, SIGTERM/SIGKILL/SIGSTOP, restart on the same data.
// Every wait is bounded. Not thread-safe: one test thread drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace nds::test {

// A port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close).
uint16_t FreePort();

// A new empty directory under the test's temporary directory; removed by the caller if wanted.
std::string MakeTempDir(const std::string& tag);

class NdsProcess {
 public:
  // `extra_args` are appended to `nds start --api 127.0.0.1:<port> --data <dir>`.
  NdsProcess(std::string data_dir, std::vector<std::string> extra_args = {});
  ~NdsProcess();  // SIGKILLs the child if it still runs

  // Starts the node and waits (up to `timeout`) until GET /healthz answers 200. Returns false
  // (with the child's stderr tail in `error`) when it exits or does not answer in time.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` and waits up to `timeout` for the exit; returns the exit status or -1.
  int Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Signal(int sig);

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string error;  // why Start failed
  std::string LogTail() const;

 private:
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace nds::test

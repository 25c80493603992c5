// NodeProcess: `nds start` through SpawnLogged, HTTP probes through nds::Client, bounded reaping.
#include "launcher/node_process.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <signal.h>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>

#include <sys/wait.h>

#include "client/client.h"
#include "launcher/child_process.h"
#include "net/loopback_port.h"
#include "util/check.h"

namespace nds::launcher {

namespace {

// How long Signal(SIGSTOP) waits to see the child stopped.
constexpr std::chrono::seconds kStopSeenMax{2};

// True when /proc says process `pid` is stopped (state T), or cannot say (it is gone).
bool ProcessIsStopped(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "re");
  if (f == nullptr) return true;
  char buf[512];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string_view text(buf, n);
  const size_t close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string_view::npos || close + 2 >= text.size()) return true;
  const char state = text[close + 2];
  return state == 'T' || state == 't' || state == 'Z' || state == 'X';
}

constexpr auto kPollInterval = std::chrono::milliseconds(20);
// How long a SIGKILLed child may take to be reaped before we give up waiting for it.
constexpr auto kKillReapTimeout = std::chrono::seconds(10);

}  // namespace

Result<std::unique_ptr<Client>> ProbeClient(uint16_t port, std::chrono::milliseconds timeout,
                                            const std::string& https_ca_file,
                                            const std::string& host) {
  client::ClientOptions options;
  options.servers = {client::ServerAddress{host, port, !https_ca_file.empty()}};
  options.tls.ca_file = https_ca_file;
  options.connect_timeout = timeout;
  options.request_timeout = timeout;
  options.retry_deadline = timeout;
  options.attempts_max = 1;
  // Like every command-line client, probes send NDS_AUTH_TOKEN when it is set (a cluster made
  // with --auth answers only /healthz, /readyz, /role and /metrics without a token).
  NDS_ASSIGN_OR_RETURN(options.auth_token, client::CommandLineAuthToken(""));
  return Client::Create(std::move(options));
}

Result<client::HttpReply> HttpGet(uint16_t port, const std::string& target,
                                  std::chrono::milliseconds timeout,
                                  const std::string& https_ca_file, const std::string& host) {
  NDS_ASSIGN_OR_RETURN(auto http, ProbeClient(port, timeout, https_ca_file, host));
  return http->Raw("GET", target);
}

NodeProcess::NodeProcess(NodeSpec spec) : spec_(std::move(spec)) {
  auto_api_port_ = spec_.api_port == 0;
  auto_peer_port_ = spec_.peer_port == 0;
  if (auto_api_port_) spec_.api_port = net::FreePort();
  if (auto_peer_port_) spec_.peer_port = net::FreePort();
  if (spec_.log_path.empty()) spec_.log_path = spec_.data_dir + ".log";
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap(kKillReapTimeout);
  }
}

std::string NodeProcess::api_address() const {
  return spec_.host + ":" + std::to_string(spec_.api_port);
}

std::string NodeProcess::peer_address() const {
  return spec_.host + ":" + std::to_string(spec_.peer_port);
}

std::vector<std::string> NodeProcess::CommandLine() const {
  std::vector<std::string> args = spec_.exec_prefix;
  args.insert(args.end(), {spec_.binary, "start", "--name", spec_.name, "--api", api_address(),
                           "--peer", peer_address(), "--data", spec_.data_dir});
  if (!spec_.token.empty()) args.insert(args.end(), {"--token", spec_.token});
  if (!spec_.join.empty()) args.insert(args.end(), {"--join", spec_.join});
  args.insert(args.end(), spec_.extra_args.begin(), spec_.extra_args.end());
  return args;
}

std::string NodeProcess::Explain(const std::string& what) const {
  std::string last = LastLine(LogTail(2048));
  return spec_.name + " " + what + (last.empty() ? "" : ": " + last) + " (log: " + spec_.log_path +
         ")";
}

Status NodeProcess::Spawn() {
  Result<pid_t> pid = SpawnLogged(CommandLine(), spec_.log_path);
  if (!pid.ok()) return Unavailable(spec_.name + ": " + pid.status().message());
  pid_ = *pid;
  paused_ = false;
  return Status::Ok();
}

Status NodeProcess::Start(std::chrono::milliseconds timeout) {
  if (Running())
    return FailedPrecondition(spec_.name + " already runs (pid " + std::to_string(pid_) + ")");
  // A port we picked may have been taken since. Until the node first served, nobody knows its
  // ports, so pick another; afterwards its peers know it by them, and it must keep them.
  if (!started_once_) {
    if (auto_api_port_ && !net::PortFree(spec_.api_port)) spec_.api_port = net::FreePort();
    if (auto_peer_port_ && !net::PortFree(spec_.peer_port)) spec_.peer_port = net::FreePort();
  }
  for (auto [port, what] : {std::pair{spec_.api_port, "API"}, std::pair{spec_.peer_port, "peer"}}) {
    if (!net::PortFree(port)) {
      return Unavailable(spec_.name + "'s " + what + " port 127.0.0.1:" + std::to_string(port) +
                         " is in use by another process");
    }
  }
  NDS_RETURN_IF_ERROR(Spawn());
  Status s = WaitFor200("/healthz", timeout);
  if (s.ok()) started_once_ = true;
  if (!s.ok() && pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap(kKillReapTimeout);
  }
  return s;
}

Status NodeProcess::WaitFor200(const std::string& path, std::chrono::milliseconds timeout) {
  NDS_CHECK(!paused_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!Running()) {
      return Unavailable(Explain("exited with status " + std::to_string(exit_status_) + " before " +
                                 path + " answered 200"));
    }
    auto reply = Get(path, std::chrono::milliseconds(500));
    if (reply.ok() && reply->status == 200) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Timeout(
          Explain(path + " did not answer 200 within " + std::to_string(timeout.count()) + " ms"));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<client::HttpReply> NodeProcess::Get(const std::string& target,
                                           std::chrono::milliseconds timeout) const {
  return HttpGet(spec_.api_port, target, timeout, spec_.https_ca_file, spec_.host);
}

void NodeProcess::Signal(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  if (sig == SIGSTOP) {
    paused_ = true;
    // kill() only queues the signal: wait (at most kStopSeenMax) until the child is seen stopped,
    // so that from the return on it answers nothing (a test asserted that and failed under load).
    const auto deadline = std::chrono::steady_clock::now() + kStopSeenMax;
    while (!ProcessIsStopped(pid_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (sig == SIGCONT) paused_ = false;
}

bool NodeProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    paused_ = false;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

Result<int> NodeProcess::Stop(int sig, std::chrono::milliseconds timeout) {
  if (!Running()) return FailedPrecondition(spec_.name + " does not run");
  kill(pid_, sig);
  // A stopped process only acts on SIGKILL; let it see any other signal.
  if (paused_) kill(pid_, SIGCONT);
  int exit_status = Reap(timeout);
  if (exit_status < 0) {
    return Timeout(spec_.name + " still runs " + std::to_string(timeout.count()) +
                   " ms after signal " + std::to_string(sig));
  }
  return exit_status;
}

int NodeProcess::Reap(std::chrono::milliseconds timeout) {
  std::optional<int> exit_status = WaitExit(pid_, timeout);
  if (!exit_status) return -1;
  pid_ = -1;
  paused_ = false;
  exit_status_ = *exit_status;
  return exit_status_;
}

std::string NodeProcess::LogTail(size_t bytes) const { return FileTail(spec_.log_path, bytes); }
}  // namespace nds::launcher

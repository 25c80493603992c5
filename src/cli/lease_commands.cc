// `nds lease grant TTL_MS | keepalive ID [ID...] | revoke ID | show ID` and `nds lock NAME --
// COMMAND...` (docs/cli.md "Leases and locks").
#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"
#include "client/encoding.h"
#include "client/lease.h"
#include "util/limits.h"

namespace nds::cli {
namespace {

// Runs `argv` with NDS_LOCK_REVISION=revision in its environment and returns its exit status
// (128 + the signal's number when a signal ended it), or an error when it could not start.
Result<int> RunHolding(const std::vector<std::string>& argv, uint64_t revision) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string revision_text = std::to_string(revision);
  pid_t pid = fork();
  if (pid < 0) return IoError(fmt::format("cannot fork: {}", std::strerror(errno)));
  if (pid == 0) {
    // The signals `nds` blocks for itself must not stay blocked in the command.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setenv("NDS_LOCK_REVISION", revision_text.c_str(), 1);
    execvp(args[0], args.data());
    std::fprintf(stderr, "nds lock: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return IoError(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return kExitError;
}

}  // namespace

void ClientCommands::AddLeaseCommands(CLI::App& app) {
  auto* lease = app.add_subcommand("lease", "Grant, keep alive, revoke or show a lease");
  lease->require_subcommand(1);
  auto* grant = lease->add_subcommand("grant", "Grant a lease of TTL_MS; prints its id");
  grant->add_option("TTL_MS", lease_ttl_ms_, "Time to live in milliseconds")
      ->required()
      ->check(CLI::Range(uint64_t{1}, static_cast<uint64_t>(kTimeoutMsMax)));
  OnRun(grant, [this](Client& c) {
    Result<uint64_t> id = client::GrantLease(&c, std::chrono::milliseconds(lease_ttl_ms_));
    if (!id.ok()) return ReportError("lease grant", id.status());
    const std::string out = output_ == "json"
                                ? fmt::format("{{\"id\":{},\"ttl_ms\":{}}}\n", *id, lease_ttl_ms_)
                                : fmt::format("{}\n", *id);
    const Status s = WriteStdout(out);
    return s.ok() ? kExitOk : ReportError("lease grant", s);
  });
  auto add_id = [this](CLI::App* sub) {
    sub->add_option("ID", lease_id_, "The lease id")
        ->required()
        ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  };
  auto* keepalive = lease->add_subcommand(
      "keepalive", "Restart the clock of one lease, or of several in one request, once");
  keepalive->add_option("ID", lease_ids_, "The lease ids")
      ->required()
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  OnRun(keepalive, [this](Client& c) { return RunKeepAlive(c); });
  auto* revoke = lease->add_subcommand("revoke", "Revoke a lease, deleting its keys");
  add_id(revoke);
  OnRun(revoke, [this](Client& c) {
    Status s = client::RevokeLease(&c, lease_id_);
    return s.ok() ? kExitOk : ReportError("lease revoke", s);
  });
  auto* show = lease->add_subcommand("show", "Print a lease's TTL, time left and keys");
  add_id(show);
  OnRun(show, [this](Client& c) {
    Result<client::LeaseInfo> info = client::ShowLease(&c, lease_id_);
    if (!info.ok()) return ReportError("lease show", info.status());
    std::string out;
    if (output_ == "json") {
      nlohmann::json keys = nlohmann::json::array();
      for (const std::string& k : info->keys) keys.push_back(k);
      nlohmann::json j = {{"id", info->id},
                          {"ttl_ms", info->ttl_ms},
                          {"remaining_ms", info->remaining_ms},
                          {"keys", keys}};
      out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      out = fmt::format("id {}\nttl_ms {}\nremaining_ms {}\nkeys {}\n", info->id, info->ttl_ms,
                        info->remaining_ms, info->keys.size());
      for (const std::string& k : info->keys) out += k + "\n";
    }
    const Status s = WriteStdout(out);
    return s.ok() ? kExitOk : ReportError("lease show", s);
  });

  auto* lock = app.add_subcommand(
      "lock", "Run COMMAND holding cluster-wide lock NAME (first come, first served)");
  lock->add_option("NAME", lock_name_, "The lock's name")->required();
  lock->add_option("COMMAND", lock_command_, "The command and its arguments, after --")->required();
  lock->add_option("--ttl-ms", lock_ttl_ms_,
                   "TTL of the lease holding the lock: how long a dead holder keeps it")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, static_cast<uint64_t>(kTimeoutMsMax)));
  OnRun(lock, [this](Client& c) { return RunLock(c); });
}

int ClientCommands::RunKeepAlive(Client& client) {
  if (lease_ids_.size() == 1) {  // POST /leases/{id}/keepalive, printed as it always was
    Result<uint64_t> ttl = client::KeepAliveLease(&client, lease_ids_[0]);
    if (!ttl.ok()) return ReportError("lease keepalive", ttl.status());
    const Status s = WriteStdout(output_ == "json" ? fmt::format("{{\"ttl_ms\":{}}}\n", *ttl)
                                                   : fmt::format("{}\n", *ttl));
    return s.ok() ? kExitOk : ReportError("lease keepalive", s);
  }
  // Several: one POST /leases/keepalive, one line per id in the order given; the exit status is
  // that of the first id not kept alive (3 when its lease is gone).
  Result<std::vector<Result<uint64_t>>> ttls = client::KeepAliveMany(&client, lease_ids_);
  if (!ttls.ok()) return ReportError("lease keepalive", ttls.status());
  std::string out;
  int code = kExitOk;
  for (size_t i = 0; i < lease_ids_.size(); ++i) {
    const Result<uint64_t>& ttl = (*ttls)[i];
    if (ttl.ok()) {
      out += output_ == "json" ? fmt::format("{{\"id\":{},\"ttl_ms\":{}}}\n", lease_ids_[i], *ttl)
                               : fmt::format("{} {}\n", lease_ids_[i], *ttl);
      continue;
    }
    if (code == kExitOk) code = ExitStatusFor(ttl.status());
    const std::string error = ttl.status().message();
    out += output_ == "json"
               ? fmt::format("{{\"id\":{},\"error\":{}}}\n", lease_ids_[i],
                             nlohmann::json(error).dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace))
               : fmt::format("{} {}\n", lease_ids_[i], client::EscapeForMessage(error, 512));
  }
  const Status s = WriteStdout(out);
  return s.ok() ? code : ReportError("lease keepalive", s);
}

int ClientCommands::RunLock(Client& client) {
  Result<client::ClientOptions> options = MakeOptionsFor(servers_text_);
  if (!options.ok()) return ReportError("lock", options.status());
  client::LockOptions lock_options;
  lock_options.ttl = std::chrono::milliseconds(lock_ttl_ms_);
  Result<std::unique_ptr<client::Lock>> lock =
      client::Lock::Acquire(&client, *options, lock_name_, lock_options);
  if (!lock.ok()) return ReportError("lock", lock.status());
  Result<int> code = RunHolding(lock_command_, (*lock)->revision());
  if (!(*lock)->held()) {
    std::fprintf(stderr,
                 "nds lock: warning: the lock's lease expired while the command ran; another "
                 "holder may have overlapped it\n");
  }
  Status released = (*lock)->Release();
  if (!released.ok()) {
    std::fprintf(stderr, "nds lock: the lock will be freed when its lease expires: %s\n",
                 released.message().c_str());
  }
  if (!code.ok()) return ReportError("lock", code.status());
  return *code;
}

}  // namespace nds::cli

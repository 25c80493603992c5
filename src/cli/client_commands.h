// The client subcommands of the `nds` binary (set, read, put, get, rm, keys, status, role,
// members, leave, secret store|retrieve) and the global --server / NDS_SERVER and --timeout
// flags, on top of nds::Client. docs/cli.md describes every one. nds_main.cc registers these
// beside `nds start` (cli/start_command.h) and calls ParseAndRun.
//
// Owned by main(); used on the main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "client/client.h"
#include "util/status.h"

namespace nds::cli {

class ClientCommands {
 public:
  // Adds the global flags and the client subcommands to `app`, and sets the app's error format
  // and its --version flag. Call before adding other subcommands so that they inherit the same
  // settings. `this` must outlive every parse of `app`.
  void Register(CLI::App& app);

  // Parses the command line and runs the chosen client subcommand. Returns the exit status:
  // kExitOk, kExitError (the command failed; one line on stderr) or kExitUsage (bad command
  // line; one line on stderr). --help and --version print to stdout and return kExitOk.
  int ParseAndRun(CLI::App& app, int argc, const char* const* argv);

 private:
  // Builds the client from --server / NDS_SERVER and --timeout.
  Result<std::unique_ptr<Client>> MakeClient() const;
  // The same for the servers in `servers_text` (HOST:PORT list), with at most `attempts` tries
  // of a call (0: the library's default).
  Result<std::unique_ptr<Client>> MakeClientFor(const std::string& servers_text,
                                                size_t attempts = 0) const;
  // The options MakeClientFor builds a client from.
  Result<client::ClientOptions> MakeOptionsFor(const std::string& servers_text,
                                               size_t attempts = 0) const;
  void AddBlobCommands(CLI::App& app);
  void AddClusterCommands(CLI::App& app);
  void AddSecretCommands(CLI::App& app);
  // snapshot_commands.cc: nds snapshot save|inspect (and restore, recover: restore_commands.cc).
  void AddSnapshotCommands(CLI::App& app);
  static void AddRestoreCommands(CLI::App* snapshot, CLI::App* app);
  // token_commands.cc: nds token create|list|revoke.
  void AddTokenCommands(CLI::App& app);
  // txn_command.cc: nds txn [FILE|-].
  void AddTxnCommands(CLI::App& app);
  // watch_command.cc: nds watch.
  void AddWatchCommands(CLI::App& app);
  // lease_commands.cc: nds lease grant|keepalive|revoke|show, nds lock NAME -- COMMAND...
  void AddLeaseCommands(CLI::App& app);
  int RunKeepAlive(Client& client);
  int RunLock(Client& client);
  // Makes `sub` run `body` with a fresh client once parsing has succeeded.
  void OnRun(CLI::App* sub, std::function<int(Client&)> body);

  int RunPut(Client& client);
  int RunKeys(Client& client);
  // cluster_view_commands.cc
  int RunStatus(Client& client);
  int RunStatusCluster(Client& client);
  int RunMembers(Client& client);
  int RunRole(Client& client);
  int RunLeaderTransfer(Client& client);
  int RunLeave(Client& client);
  int RunSecretStore(Client& client);

  // Global flags.
  std::string servers_text_ = "localhost:7777";
  double timeout_seconds_ = 0;    // 0: the library's defaults
  std::string token_file_;        // --token-file; NDS_AUTH_TOKEN when empty
  client::ClientTlsOptions tls_;  // --cacert, --cert, --key
  std::string output_ = "text";   // -o/--output: text, json or table (cli/output_format.h)
  // The chosen subcommand's body, set by its CLI11 callback and run after parsing.
  std::function<int(Client&)> run_;

  // Arguments of the subcommands (only the chosen one's are set).
  std::string key_;
  std::string value_;
  std::string value_file_;  // put --file PATH ("-": stdin)
  std::string content_type_;
  std::optional<uint64_t> if_match_;
  bool create_only_ = false;
  int RunGet(Client& client);
  std::string prefix_;
  bool null_separated_ = false;
  bool json_ = false;
  bool cluster_ = false;  // status --cluster
  std::optional<uint64_t> member_id_;
  std::string secret_id_;
  std::string secret_input_ = "-";
  std::string secret_key_;
  std::string token_name_;
  std::string token_role_;
  std::string token_prefix_;
  std::string txn_input_ = "-";
  std::optional<uint64_t> watch_from_;
  uint64_t lease_ttl_ms_ = 0;
  uint64_t lease_id_ = 0;
  std::vector<uint64_t> lease_ids_;  // lease keepalive ID [ID...]
  std::string lock_name_;
  std::vector<std::string> lock_command_;
  uint64_t lock_ttl_ms_ = 10'000;
};

}  // namespace nds::cli

// Registration and bodies of the client subcommands (see client_commands.h and docs/cli.md).
// CLI11 throws on bad command lines; those exceptions are caught in ParseAndRun, the one place
// that calls into CLI11's parser, and become exit status 2.
#include "cli/client_commands.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/flag_range.h"
#include "cli/terminal_io.h"
#include "loadgen/bench_options.h"
#include "util/limits.h"

namespace nds::cli {
namespace {

// The single key of `nds set` and `nds read`, through the /set and /get routes.
constexpr std::string_view kDefaultKey = "default";
constexpr double kTimeoutSecondsMax = 3600;

// A member id: decimal digits, 1 and up.
CLI::Validator MemberIdValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id == 0) {
          return fmt::format("must be a member id, a whole number from 'nds members' (got {})",
                             Quoted(text));
        }
        return std::string();
      },
      "ID");
}

// Text of at most `max` Unicode characters (UTF-8 code points; invalid bytes count one each).
CLI::Validator AtMostCodePoints(size_t max) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        size_t points = 0;
        for (unsigned char c : text) points += (c & 0xC0) != 0x80 ? 1 : 0;
        if (points <= max) return std::string();
        return fmt::format("has {} characters; at most {} are allowed", points, max);
      },
      fmt::format("TEXT<={}", max));
}

std::string UsageLine(const CLI::App* app, const CLI::Error& e) {
  std::string name = app->get_name();
  for (const CLI::App* sub : app->get_subcommands()) name += " " + sub->get_name();
  const std::vector<std::string> extra = app->remaining();
  if (app->get_subcommands().empty() && !extra.empty() && !extra.front().starts_with("-")) {
    return fmt::format("nds: unknown subcommand '{}'; run '{} --help'\n", extra.front(), name);
  }
  return fmt::format("nds: {}; run '{} --help'\n", e.what(), name);
}

}  // namespace

void ClientCommands::Register(CLI::App& app) {
  app.set_version_flag("--version", fmt::format("nds {}", NDS_VERSION));
  app.failure_message(UsageLine);
  app.require_subcommand(1);
  // Global flags may follow the subcommand: `nds get k --server h:7777`.
  app.fallthrough();
  app.add_option("--server", servers_text_,
                 "Cluster addresses HOST:PORT[,HOST:PORT...] (https://HOST:PORT for TLS), tried "
                 "in order")
      ->envname("NDS_SERVER")
      ->capture_default_str();
  app.add_option(
         "--timeout", timeout_seconds_,
         "Seconds a command waits for its answer, retries included (default 10; connect: at "
         "most 2)")
      ->check(DecimalInRange(0.001, kTimeoutSecondsMax, "1 hour"));
  app.add_option("--token-file", token_file_,
                 "Send the bearer token in FILE (its first line); default: NDS_AUTH_TOKEN");
  loadgen::AddClientTlsFlags(&app, &tls_);
  app.add_option("-o,--output", output_,
                 "How commands that print data print it: text, json (one JSON document) or "
                 "table")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json", "table"}));

  auto* set = app.add_subcommand("set", "Set the single default key (via /set?k=default)");
  set->add_option("VALUE", value_, "Text, up to 256 characters")
      ->required()
      ->check(AtMostCodePoints(kKvValueCodePointsMax));
  OnRun(set, [this](Client& c) {
    const Status s = c.Set(kDefaultKey, value_);
    return s.ok() ? kExitOk : ReportError("set", s);
  });
  auto* read = app.add_subcommand("read", "Print the single default key (via /get?k=default)");
  OnRun(read, [](Client& c) {
    Result<std::string> value = c.KvGet(kDefaultKey);
    if (!value.ok()) return ReportError("read", value.status());
    const Status s = WriteStdout(*value + "\n");
    return s.ok() ? kExitOk : ReportError("read", s);
  });
  AddBlobCommands(app);
  AddClusterCommands(app);
  AddSecretCommands(app);
  AddTokenCommands(app);
  AddSnapshotCommands(app);
  AddTxnCommands(app);
  AddWatchCommands(app);
  AddLeaseCommands(app);
}

void ClientCommands::AddBlobCommands(CLI::App& app) {
  auto* put = app.add_subcommand("put", "Store a value (a blob) under KEY");
  put->add_option("KEY", key_, "The key: any text, up to 1024 bytes")->required();
  // One rule for every command: a value on the command line is taken as it is; a file's content
  // is given with --file (or, for secrets, which do not belong on command lines, FILE).
  auto* value = put->add_option("VALUE", value_,
                                "The value as it is, or - to read it from stdin (binary-safe); "
                                "one of VALUE and --file is required");
  put->add_option("-f,--file", value_file_, "Store the content of file PATH (- for stdin)")
      ->type_name("PATH")
      ->excludes(value);
  put->add_option("--content-type", content_type_, "Content-Type to store with the value");
  auto* if_match = put->add_option("--if-match", if_match_,
                                   "Write only if the key's current revision is REV (CAS)")
                       ->type_name("REV");
  put->add_flag("--create", create_only_, "Write only if the key does not exist yet")
      ->excludes(if_match);
  OnRun(put, [this](Client& c) { return RunPut(c); });

  auto* get = app.add_subcommand(
      "get", "Write the value of KEY to stdout, byte for byte (-o json: with its revision)");
  get->add_option("KEY", key_, "The key")->required();
  OnRun(get, [this](Client& c) { return RunGet(c); });

  auto* rm = app.add_subcommand("rm", "Delete KEY");
  rm->add_option("KEY", key_, "The key")->required();
  rm->add_option("--if-match", if_match_, "Delete only if the key's current revision is REV")
      ->type_name("REV");
  OnRun(rm, [this](Client& c) {
    Result<uint64_t> revision = c.Delete(key_, if_match_);
    return revision.ok() ? kExitOk
                         : ReportError(fmt::format("rm {}", Quoted(key_)), revision.status());
  });

  auto* keys = app.add_subcommand("keys", "List every key (one per line), in byte order");
  keys->add_option("--prefix", prefix_, "Only keys that start with P");
  keys->add_flag("-0,--null", null_separated_, "End each key with a NUL byte, not a newline");
  OnRun(keys, [this](Client& c) { return RunKeys(c); });
}

void ClientCommands::AddClusterCommands(CLI::App& app) {
  auto* status = app.add_subcommand("status", "Show the node's id, role, term and indexes");
  status->add_flag("--json", json_, "Print the node's /status JSON as it is (as -o json)");
  status->add_flag("--cluster", cluster_,
                   "Ask every member for its status and show them side by side (exit 4 when "
                   "one does not answer)");
  OnRun(status, [this](Client& c) { return RunStatus(c); });

  auto* role = app.add_subcommand("role", "Print goose (the leader with a lease) or duck");
  OnRun(role, [this](Client& c) { return RunRole(c); });

  auto* members = app.add_subcommand("members", "List the cluster's members");
  members->add_flag("--json", json_, "As -o json");
  OnRun(members, [this](Client& c) { return RunMembers(c); });

  auto* leave = app.add_subcommand("leave", "Remove member ID (default: the node asked)");
  leave->add_option("ID", member_id_, "The member id (see 'nds members')")
      ->type_name("ID")
      ->check(MemberIdValidator());
  OnRun(leave, [this](Client& c) { return RunLeave(c); });

  auto* leader = app.add_subcommand("leader", "Leadership of the cluster");
  leader->require_subcommand(1);
  auto* transfer = leader->add_subcommand("transfer", "Hand leadership to member ID (a voter)");
  transfer->add_option("ID", member_id_, "The member id (see 'nds members')")
      ->type_name("ID")
      ->required()
      ->check(MemberIdValidator());
  OnRun(transfer, [this](Client& c) { return RunLeaderTransfer(c); });
}

void ClientCommands::AddSecretCommands(CLI::App& app) {
  auto* secret = app.add_subcommand("secret", "Store and retrieve encrypted secrets");
  secret->require_subcommand(1);
  auto* store = secret->add_subcommand("store", "Encrypt and store a secret; prints its key");
  store->add_option("ID", secret_id_, "The secret's id")->required();
  auto* file = store->add_option("FILE", secret_input_,
                                 "Read the secret from FILE, or - for stdin (default); a secret "
                                 "is never taken from the command line, where ps would show it");
  store->add_option("-f,--file", secret_input_, "The same as FILE, spelled as for 'nds put'")
      ->type_name("PATH")
      ->excludes(file);
  OnRun(store, [this](Client& c) { return RunSecretStore(c); });

  auto* retrieve = secret->add_subcommand("retrieve", "Write a secret's plaintext to stdout");
  retrieve->add_option("ID", secret_id_, "The secret's id")->required();
  retrieve->add_option("KEY", secret_key_, "The key 'nds secret store' printed")->required();
  OnRun(retrieve, [this](Client& c) {
    Result<std::string> plaintext = c.RetrieveSecret(secret_id_, secret_key_);
    const std::string context = fmt::format("secret retrieve {}", Quoted(secret_id_));
    if (!plaintext.ok()) return ReportError(context, plaintext.status());
    const Status s = WriteStdout(*plaintext);
    return s.ok() ? kExitOk : ReportError(context, s);
  });
}

void ClientCommands::OnRun(CLI::App* sub, std::function<int(Client&)> body) {
  sub->callback([this, body = std::move(body)] { run_ = body; });
}

Result<std::unique_ptr<Client>> ClientCommands::MakeClient() const {
  return MakeClientFor(servers_text_);
}

Result<std::unique_ptr<Client>> ClientCommands::MakeClientFor(const std::string& servers_text,
                                                              size_t attempts) const {
  NDS_ASSIGN_OR_RETURN(client::ClientOptions options, MakeOptionsFor(servers_text, attempts));
  return Client::Create(std::move(options));
}

Result<client::ClientOptions> ClientCommands::MakeOptionsFor(const std::string& servers_text,
                                                             size_t attempts) const {
  client::ClientOptions options;
  NDS_ASSIGN_OR_RETURN(options.servers, client::ParseServerList(servers_text));
  if (attempts > 0) options.attempts_max = attempts;
  options.tls = tls_;
  // `nds get` can read back any value `nds put` can send.
  options.reply_body_bytes_max = kInputBytesMax;
  NDS_ASSIGN_OR_RETURN(options.auth_token, client::CommandLineAuthToken(token_file_));
  if (timeout_seconds_ > 0) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds_ * 1000));
    options.request_timeout = std::max(timeout, std::chrono::milliseconds(1));
    options.connect_timeout = std::min(options.connect_timeout, options.request_timeout);
    // The whole command, retries included, ends within --timeout: no attempt starts after it
    // (issue #15: "--timeout 1" waited 3 s and then said "within 1000 ms").
    options.retry_deadline = options.request_timeout;
  }
  return options;
}

int ClientCommands::ParseAndRun(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!run_) return kExitOk;    // another subcommand (start) ran in its callback
  if (json_) output_ = "json";  // --json, kept where it was before -o
  Result<std::unique_ptr<Client>> client = MakeClient();
  if (!client.ok()) {
    std::fprintf(stderr, "nds: %s; run 'nds --help'\n", client.status().message().c_str());
    return kExitUsage;
  }
  return run_(**client);
}

}  // namespace nds::cli

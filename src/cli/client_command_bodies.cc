// The bodies of the client subcommands that do more than one call or format output (put, keys,
// leave, secret store); their registration is in client_commands.cc. status, members, role and
// leader transfer are in cluster_view_commands.cc.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"

namespace nds::cli {

int ClientCommands::RunPut(Client& client) {
  const std::string context = fmt::format("put {}", Quoted(key_));
  std::string value;
  if (value_ == "-") {
    Result<std::string> input = ReadInput("-");
    if (!input.ok()) return ReportError(context, input.status());
    value = std::move(*input);
  } else {
    value = value_;
  }
  client::PutOptions options;
  options.content_type = content_type_;
  options.if_match_revision = if_match_;
  options.if_none_match_star = create_only_;
  Result<client::PutResult> put = client.Put(key_, value, options);
  if (!put.ok()) return ReportError(context, put.status());
  // The revision alone, so that a script can pass it to --if-match.
  const Status s =
      WriteStdout(output_ == "json" ? fmt::format("{{\"revision\":{}}}\n", put->revision)
                                    : fmt::format("{}\n", put->revision));
  return s.ok() ? kExitOk : ReportError(context, s);
}

int ClientCommands::RunKeys(Client& client) {
  const char end = null_separated_ ? '\0' : '\n';
  const bool json = output_ == "json";
  // JSON: one array, streamed a key at a time (a listing may not fit in memory).
  std::string line = json ? "[" : "";
  bool first = true;
  Status s = client.ForEachKey(prefix_, [&](std::string_view key) {
    if (json) {
      if (!first) line += ',';
      line += nlohmann::json(std::string(key))
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line.assign(key);
      line.push_back(end);
    }
    first = false;
    Status w = WriteStdout(line);
    line.clear();
    return w;
  });
  if (s.ok() && json) s = WriteStdout(line + "]\n");
  return s.ok() ? kExitOk : ReportError("keys", s);
}

int ClientCommands::RunLeave(Client& client) {
  NodeId id;
  if (member_id_) {
    id = NodeId(*member_id_);
  } else {
    Result<client::NodeStatus> st = client.GetStatus();
    if (!st.ok()) return ReportError("leave: finding this node's id", st.status());
    if (st->id == kNoNode) {
      return ReportError("leave", InvalidArgument("the node did not report its id; give the ID "
                                                  "from 'nds members'"));
    }
    id = st->id;
  }
  // Named before it goes, so that the answer can say who left.
  std::string who = fmt::format("node {}", id.value);
  if (auto members = client.Members(); members.ok()) {
    for (const client::MemberInfo& m : *members) {
      if (m.id == id) who = fmt::format("node {} ({}, API {})", id.value, m.name, m.api_address);
    }
  }
  const Status s = client.RemoveMember(id);
  if (!s.ok()) return ReportError(fmt::format("leave {}", id), s);
  const Status w = WriteStdout(fmt::format(
      "removed {} from the cluster; it stops serving (role removed). To add that machine back, "
      "move its data directory away and start it with --join\n",
      who));
  return w.ok() ? kExitOk : ReportError("leave", w);
}

int ClientCommands::RunSecretStore(Client& client) {
  const std::string context = fmt::format("secret store {}", Quoted(secret_id_));
  Result<std::string> plaintext = ReadInput(secret_input_);
  if (!plaintext.ok()) return ReportError(context, plaintext.status());
  Result<std::string> key = client.StoreSecret(secret_id_, *plaintext);
  if (!key.ok()) return ReportError(context, key.status());
  const Status s = WriteStdout(*key + "\n");
  return s.ok() ? kExitOk : ReportError(context, s);
}

}  // namespace nds::cli

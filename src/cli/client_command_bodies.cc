// The bodies of the client subcommands that do more than one call or format output (put, keys,
// status, members, leave, secret store); their registration is in client_commands.cc.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"

namespace nds::cli {
namespace {

std::string MemberRow(const client::MemberInfo& m) {
  const std::string reachable = m.reachable ? (*m.reachable ? "yes" : "no") : "-";
  const std::string behind = m.behind_entries ? fmt::format("{}", *m.behind_entries) : "-";
  return fmt::format("{:<6} {:<16} {:<8} {:<24} {:<24} {:<9} {}\n", m.id.value, m.name,
                     m.voter ? "voter" : "learner", m.api_address, m.peer_address, reachable,
                     behind);
}

}  // namespace

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
  const Status s = WriteStdout(fmt::format("{}\n", put->revision));
  return s.ok() ? kExitOk : ReportError(context, s);
}

int ClientCommands::RunKeys(Client& client) {
  const char end = null_separated_ ? '\0' : '\n';
  std::string line;
  const Status s = client.ForEachKey(prefix_, [&](std::string_view key) {
    line.assign(key);
    line.push_back(end);
    return WriteStdout(line);
  });
  return s.ok() ? kExitOk : ReportError("keys", s);
}

int ClientCommands::RunStatus(Client& client) {
  if (json_) {
    Result<client::HttpReply> reply = client.Raw("GET", "/status");
    if (!reply.ok()) return ReportError("status", reply.status());
    if (reply->status != 200) {
      return ReportError("status", Status(StatusCode::kIoError,
                                          fmt::format("the node answered HTTP {}", reply->status)));
    }
    const Status s = WriteStdout(reply->body + (reply->body.ends_with('\n') ? "" : "\n"));
    return s.ok() ? kExitOk : ReportError("status", s);
  }
  Result<client::NodeStatus> st = client.GetStatus();
  if (!st.ok()) return ReportError("status", st.status());
  const std::string leader = st->leader_id == kNoNode ? "none" : fmt::format("{}", st->leader_id);
  const Status s = WriteStdout(
      fmt::format("id: {}\nname: {}\nrole: {}\nterm: {}\nleader_id: {}\ncommit_index: {}\n"
                  "applied_index: {}\nversion: {}\nserver: {}\n",
                  st->id, st->name, st->role, st->term, leader, st->commit_index, st->applied_index,
                  st->version, client.current_server().ToString()));
  return s.ok() ? kExitOk : ReportError("status", s);
}

int ClientCommands::RunMembers(Client& client) {
  Result<std::vector<client::MemberInfo>> members = client.Members();
  if (!members.ok()) return ReportError("members", members.status());
  std::string out = fmt::format("{:<6} {:<16} {:<8} {:<24} {:<24} {:<9} {}\n", "ID", "NAME", "KIND",
                                "API", "PEER", "REACHABLE", "BEHIND");
  for (const client::MemberInfo& m : *members) out += MemberRow(m);
  const Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError("members", s);
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

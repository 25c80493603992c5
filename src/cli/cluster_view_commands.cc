// The bodies of `nds status` (one node, or --cluster: every member side by side), `nds members`
// (with the leader marked), `nds role` and `nds leader transfer`, in the three output forms of
// output_format.h. Registration is in client_commands.cc.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/output_format.h"
#include "cli/terminal_io.h"

namespace nds::cli {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string LeaderText(NodeId id) { return id == kNoNode ? "none" : fmt::format("{}", id); }

Json MemberJson(const client::MemberInfo& m, NodeId leader) {
  Json j = {{"id", m.id.value},
            {"name", m.name},
            {"api_address", m.api_address},
            {"peer_address", m.peer_address},
            {"voter", m.voter},
            {"leader", m.id == leader}};
  j["reachable"] = m.reachable ? Json(*m.reachable) : Json();
  j["behind"] = m.behind_entries ? Json(*m.behind_entries) : Json();
  return j;
}

// One row of `status --cluster`: the member, and its /status or why it has none.
struct MemberStatus {
  client::MemberInfo member;
  Result<Json> status = Json();
};

std::string StatusCell(const Result<Json>& st, const char* field) {
  if (!st.ok() || !st->contains(field)) return "-";
  const Json& v = (*st)[field];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

int ClientCommands::RunStatus(Client& client) {
  if (cluster_) return RunStatusCluster(client);
  if (json_ || output_ == "json") {
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
  const std::string leader = LeaderText(st->leader_id);
  std::string out;
  if (output_ == "table") {
    out = RenderTable({"ID", "NAME", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "SERVER"},
                      {{fmt::format("{}", st->id), st->name, st->role, fmt::format("{}", st->term),
                        leader, fmt::format("{}", st->commit_index),
                        fmt::format("{}", st->applied_index), client.current_server().ToString()}});
  } else {
    out = fmt::format(
        "id: {}\nname: {}\nrole: {}\nterm: {}\nleader_id: {}\ncommit_index: {}\n"
        "applied_index: {}\nversion: {}\nserver: {}\n",
        st->id, st->name, st->role, st->term, leader, st->commit_index, st->applied_index,
        st->version, client.current_server().ToString());
  }
  const Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError("status", s);
}

int ClientCommands::RunStatusCluster(Client& client) {
  Result<std::vector<client::MemberInfo>> members = client.Members();
  if (!members.ok()) return ReportError("status --cluster", members.status());
  const std::string scheme = client.current_server().tls ? "https://" : "";
  std::vector<MemberStatus> rows;
  bool all_answered = true;
  for (const client::MemberInfo& m : *members) {
    MemberStatus row{m, Json()};
    Result<std::unique_ptr<Client>> c = MakeClientFor(scheme + m.api_address, /*attempts=*/1);
    Result<client::HttpReply> reply =
        c.ok() ? (*c)->Raw("GET", "/status") : Result<client::HttpReply>(c.status());
    if (!reply.ok()) {
      row.status = reply.status();
    } else {
      Json j = Json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
      if (reply->status != 200 || !j.is_object()) {
        row.status = IoError(fmt::format("HTTP {} without a status", reply->status));
      } else {
        row.status = std::move(j);
      }
    }
    all_answered = all_answered && row.status.ok();
    rows.push_back(std::move(row));
  }
  std::string out;
  if (output_ == "json") {
    Json list = Json::array();
    for (const MemberStatus& r : rows) {
      Json j = r.status.ok() ? *r.status : Json::object();
      j["id"] = r.member.id.value;
      j["name"] = r.member.name;
      j["api_address"] = r.member.api_address;
      if (!r.status.ok()) j["error"] = r.status.status().message();
      list.push_back(std::move(j));
    }
    out = Dump(list);
  } else {
    std::vector<std::vector<std::string>> cells;
    for (const MemberStatus& r : rows) {
      std::string leader = StatusCell(r.status, "leader_id");
      if (leader == "0") leader = "none";
      cells.push_back({fmt::format("{}", r.member.id), r.member.name, r.member.api_address,
                       r.status.ok() ? StatusCell(r.status, "role") : "unreachable",
                       StatusCell(r.status, "term"), leader, StatusCell(r.status, "commit_index"),
                       StatusCell(r.status, "applied_index")});
    }
    out = RenderTable({"ID", "NAME", "API", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED"}, cells);
  }
  const Status s = WriteStdout(out);
  if (!s.ok()) return ReportError("status --cluster", s);
  // Every member shown; the exit status says whether each one answered.
  return all_answered ? kExitOk : kExitUnavailable;
}

int ClientCommands::RunMembers(Client& client) {
  Result<std::vector<client::MemberInfo>> members = client.Members();
  if (!members.ok()) return ReportError("members", members.status());
  // The node asked knows the leader (when there is one); not fatal when it does not answer.
  Result<client::NodeStatus> st = client.GetStatus();
  const NodeId leader = st.ok() ? st->leader_id : kNoNode;
  std::string out;
  if (output_ == "json") {
    Json list = Json::array();
    for (const client::MemberInfo& m : *members) list.push_back(MemberJson(m, leader));
    out = Dump(list);
  } else {
    std::vector<std::vector<std::string>> cells;
    for (const client::MemberInfo& m : *members) {
      cells.push_back({fmt::format("{}", m.id.value), m.name, m.voter ? "voter" : "learner",
                       m.id == leader ? "yes" : "", m.api_address, m.peer_address,
                       m.reachable ? (*m.reachable ? "yes" : "no") : "-",
                       m.behind_entries ? fmt::format("{}", *m.behind_entries) : "-"});
    }
    out =
        RenderTable({"ID", "NAME", "KIND", "LEADER", "API", "PEER", "REACHABLE", "BEHIND"}, cells);
  }
  const Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError("members", s);
}

int ClientCommands::RunRole(Client& client) {
  Result<std::string> r = client.Role();
  if (!r.ok()) return ReportError("role", r.status());
  const std::string server = client.current_server().ToString();
  std::string out;
  if (output_ == "json") {
    out = Dump(Json{{"role", *r}, {"server", server}});
  } else if (output_ == "table") {
    out = RenderTable({"SERVER", "ROLE"}, {{server, *r}});
  } else {
    out = *r + "\n";
  }
  const Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError("role", s);
}

int ClientCommands::RunLeaderTransfer(Client& client) {
  const std::string context = fmt::format("leader transfer {}", *member_id_);
  const Status t = client.TransferLeader(NodeId(*member_id_));
  if (!t.ok()) return ReportError(context, t);
  const Status s =
      WriteStdout(output_ == "json" ? fmt::format("{{\"leader_id\":{}}}\n", *member_id_)
                                    : fmt::format("member {} now leads\n", *member_id_));
  return s.ok() ? kExitOk : ReportError(context, s);
}

}  // namespace nds::cli

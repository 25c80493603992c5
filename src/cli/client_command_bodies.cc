// The bodies of the client subcommands that do more than one call or format output (put, get, keys,
// leave, secret store); their registration is in client_commands.cc. status, members, role and
// leader transfer are in cluster_view_commands.cc.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"
#include "util/base64.h"

namespace nds::cli {

int ClientCommands::RunPut(Client& client) {
  const std::string context = fmt::format("put {}", Quoted(key_));
  std::string value;
  if (!value_file_.empty() || value_ == "-") {
    Result<std::string> input = ReadInput(value_file_.empty() ? value_ : value_file_);
    if (!input.ok()) return ReportError(context, input.status());
    value = std::move(*input);
  } else if (!value_.empty()) {
    value = value_;
    std::error_code ec;
    if ((value_.starts_with('/') || value_.starts_with("./")) &&
        std::filesystem::is_regular_file(value_, ec)) {
      // The value is stored as given; say so, in case the file's content was meant.
      std::fprintf(stderr,
                   "note: stored the text %s as the value; to store the file's content, "
                   "use --file %s\n",
                   Quoted(value_).c_str(), Quoted(value_).c_str());
    }
  } else {
    std::fprintf(stderr,
                 "nds: VALUE (or - for stdin) or --file PATH is required; run 'nds put "
                 "--help'\n");
    return kExitUsage;
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

int ClientCommands::RunGet(Client& client) {
  const std::string context = fmt::format("get {}", Quoted(key_));
  Result<client::Blob> blob = client.Get(key_);
  if (!blob.ok()) return ReportError(context, blob.status());
  if (output_ != "json") {
    const Status s = WriteStdout(blob->value);
    return s.ok() ? kExitOk : ReportError(context, s);
  }
  // One object: the value as text when it is UTF-8, always as base64 (exact bytes).
  nlohmann::json j{{"key", key_},
                   {"revision", blob->revision},
                   {"content_type", blob->content_type},
                   {"size_bytes", blob->value.size()},
                   {"value_base64", Base64Encode(blob->value)}};
  std::string line;
  try {
    j["value"] = blob->value;
    line = j.dump();
  } catch (const nlohmann::json::exception&) {  // not UTF-8: base64 only
    j.erase("value");
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  const Status s = WriteStdout(line + "\n");
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

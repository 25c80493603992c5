// `nds watch [--prefix P | --key K] [--from R] [-o text|json]`: prints every change after a
// revision as it happens, resuming on the next server when one fails (nds::Client::Watch).
// Exit status: 1 when the history it needed was compacted away (the message says up to which
// revision), 4 when no server could resume the watch, 2 for a bad command line.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_commands.h"
#include "cli/terminal_io.h"

namespace nds::cli {
namespace {

std::string EventLine(const client::WatchEvent& e, bool json) {
  using Type = client::WatchEvent::Type;
  const char* type = e.type == Type::kPut ? "put" : e.type == Type::kDelete ? "delete" : "progress";
  if (json) {
    nlohmann::json line = {{"revision", e.revision}, {"type", type}};
    if (e.type != Type::kProgress) line["key"] = e.key;
    if (e.type == Type::kPut) {
      line["value"] = e.value;
      line["content_type"] = e.content_type;
    }
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  if (e.type == Type::kPut) return fmt::format("{} put {} {}\n", e.revision, e.key, e.value);
  return fmt::format("{} delete {}\n", e.revision, e.key);
}

}  // namespace

void ClientCommands::AddWatchCommands(CLI::App& app) {
  auto* watch = app.add_subcommand(
      "watch", "Print every change after a revision as it happens (until interrupted)");
  auto* key = watch->add_option("--key", key_, "Watch this one key");
  watch->add_option("--prefix", prefix_, "Watch every key starting with this (default: all)")
      ->excludes(key);
  watch->add_option("--from", watch_from_, "Changes after this revision (default: from now)");
  OnRun(watch, [this](Client& c) {
    client::WatchRequest request;
    request.key = key_;
    request.prefix = prefix_;
    request.from = watch_from_;
    const bool json = output_ == "json";
    client::WatchEnd end;
    Status s = c.Watch(
        request, [json](const client::WatchEvent& e) { return WriteStdout(EventLine(e, json)); },
        &end);
    return ReportError("watch", s);
  });
}

}  // namespace nds::cli

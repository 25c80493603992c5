// `nds snapshot restore FILE --data DIR` and `nds recover --data DIR` (docs/cli.md "Backup and
// restore", docs/operations.md "Disaster recovery"): the offline tools that make a data directory
// a one-member cluster. Neither talks to a server.
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>
#include <sys/stat.h>

#include "cli/client_commands.h"
#include "cli/image_file.h"
#include "cli/image_restore.h"
#include "cli/recovery.h"
#include "cli/terminal_io.h"
#include "util/host_port.h"

namespace nds::cli {
namespace {

struct RestoreFlags {
  std::string file;
  std::string data;
  std::string name = "node1";
  std::string api = "0.0.0.0:7777";
  std::string peer = "0.0.0.0:7778";
  std::string engine = "rocksdb";
};

int RunRestore(const RestoreFlags& f) {
  ::umask(077);  // the data directory holds the cluster secret: owner only, as `nds start` makes it
  const std::string context = fmt::format("snapshot restore {}", f.file);
  auto file = ImageFile::Open(f.file);
  if (!file.ok()) return ReportError(context, file.status());
  store::ImageReader& reader = (*file)->reader();
  if (Status s = reader.ReadHeader(); !s.ok()) return ReportError(context, s);
  RestoreOptions o;
  o.data_dir = f.data;
  o.engine = f.engine;
  o.name = f.name;
  o.api_address = AdvertisedAddress(f.api);
  o.peer_address = AdvertisedAddress(f.peer);
  auto report = RestoreImage(reader, o);
  if (!report.ok()) return ReportError(context, report.status());
  std::string out = fmt::format(
      "restored {} into {}\nrevision {}\nkeys {}\nsecrets {}\nauth records {}\ncluster {}\n"
      "join token: {}\nstart it with: nds start --data {} --name {} --api {} --peer {}{}\n",
      f.file, f.data, report->revision, report->totals.data_records, report->totals.secret_records,
      report->totals.auth_records, report->cluster_id, report->join_token, f.data, f.name, f.api,
      f.peer, f.engine == "rocksdb" ? "" : " --engine " + f.engine);
  Status w = WriteStdout(out);
  return w.ok() ? kExitOk : ReportError(context, w);
}

int RunRecover(const std::string& data) {
  ::umask(077);
  const std::string context = fmt::format("recover --data {}", data);
  auto report = RecoverDataDir(data);
  if (!report.ok()) return ReportError(context, report.status());
  std::string removed;
  for (const auto& m : report->removed) {
    removed +=
        fmt::format("\n  {} '{}' (peer {}, api {})", m.id, m.name, m.peer_address, m.api_address);
  }
  std::string out = fmt::format(
      "kept last index {} (term {}); entries {} to {} of the log were applied\n"
      "node {} is now the only member of cluster {} (was {}, now fenced)\n"
      "members removed:{}\n"
      "next: start this node on {}, then join new nodes to it; wipe the data directories of "
      "the removed members before they join again\n",
      report->last_index, report->last_term, report->applied_before + 1, report->last_index,
      report->node_id, report->new_cluster_id, report->old_cluster_id,
      removed.empty() ? " none" : removed, data);
  Status w = WriteStdout(out);
  return w.ok() ? kExitOk : ReportError(context, w);
}

}  // namespace

void ClientCommands::AddRestoreCommands(CLI::App* snapshot, CLI::App* app) {
  auto f = std::make_shared<RestoreFlags>();
  auto* restore = snapshot->add_subcommand(
      "restore", "Make a new data directory for a new one-member cluster holding an image");
  restore->add_option("FILE", f->file, "The image file ('nds snapshot save')")->required();
  restore->add_option("--data", f->data, "The new data directory (absent or empty)")->required();
  restore->add_option("--name", f->name, "The node's name")->capture_default_str();
  restore->add_option("--api", f->api, "HOST:PORT the node will serve its API on")
      ->capture_default_str();
  restore->add_option("--peer", f->peer, "HOST:PORT for peer traffic")->capture_default_str();
  restore->add_option("--engine", f->engine, "Storage engine the node will run")
      ->capture_default_str()
      ->check(CLI::IsMember({"rocksdb", "memory"}));
  restore->callback([f] { std::exit(RunRestore(*f)); });

  auto data = std::make_shared<std::string>();
  auto* recover = app->add_subcommand(
      "recover",
      "Quorum lost for good: make this stopped node a one-member cluster of its own data");
  recover->add_option("--data", *data, "The survivor's data directory (the node stopped)")
      ->required();
  recover->callback([data] { std::exit(RunRecover(*data)); });
}

}  // namespace nds::cli

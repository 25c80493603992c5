// `nds snapshot save FILE` and `nds snapshot inspect FILE` (docs/cli.md "Backup and restore"):
// save streams GET /snapshot into FILE.tmp, checks the whole image, syncs it and renames it into
// place; inspect checks a saved image and prints what it holds.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/client_commands.h"
#include "cli/image_file.h"
#include "cli/terminal_io.h"
#include "util/file_system.h"

namespace nds::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Writes all of `bytes` to `fd`. kIoError / kNoSpace naming `path`.
Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      std::string why = fmt::format("cannot write {}: {}", path, std::strerror(err));
      return err == ENOSPC ? NoSpace(why) : IoError(why);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

double Megabytes(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

// Prints "\r<bytes> MB (<rate> MB/s)" on stderr at most every 200 ms, when stderr is a terminal.
class Progress {
 public:
  Progress() : on_(::isatty(STDERR_FILENO) == 1), started_(Clock::now()), last_(started_) {}
  void Update(uint64_t bytes, bool final) {
    if (!on_) return;
    auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double s = std::chrono::duration<double>(now - started_).count();
    std::fprintf(stderr, "\r%.1f MB received (%.1f MB/s)%s", Megabytes(bytes),
                 s > 0 ? Megabytes(bytes) / s : 0.0, final ? "\n" : "");
  }

 private:
  bool on_;
  Clock::time_point started_;
  Clock::time_point last_;
};

std::string Summary(const ImageSummary& s) {
  return fmt::format(
      "revision {}\nkeys {}\nsecrets {}\nauth records {}\nbytes {}\ncluster {}\ncreated_unix_ms "
      "{}\nchecksum ok\n",
      s.header.revision, s.totals.data_records, s.totals.secret_records, s.totals.auth_records,
      s.totals.bytes, s.header.cluster_id.empty() ? "-" : s.header.cluster_id,
      s.header.created_unix_ms);
}

// Downloads into `tmp`, checks and syncs it; the caller renames it.
Result<ImageSummary> SaveInto(Client& client, const std::string& tmp) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  uint64_t bytes = 0;
  Progress progress;
  auto reply = client.Download("/snapshot", [&](std::string_view piece) {
    bytes += piece.size();
    progress.Update(bytes, false);
    return WriteAll(fd, piece, tmp);
  });
  progress.Update(bytes, true);
  Status synced = reply.ok() && ::fsync(fd) != 0
                      ? IoError(fmt::format("cannot sync {}: {}", tmp, std::strerror(errno)))
                      : Status::Ok();
  ::close(fd);
  if (!reply.ok()) return reply.status();
  NDS_RETURN_IF_ERROR(synced);
  // The whole file is read back: what is renamed into place is what was checked.
  auto summary = CheckImageFile(tmp);
  if (!summary.ok()) {
    return Status(summary.status().code(),
                  "the image received is damaged: " + summary.status().message());
  }
  return summary;
}

int RunSave(Client& client, const std::string& file) {
  const std::string context = fmt::format("snapshot save {}", file);
  const std::string tmp = file + ".tmp";
  const auto started = Clock::now();
  auto summary = SaveInto(client, tmp);
  Status s = summary.status();
  if (s.ok()) s = DefaultFileSystem()->Rename(tmp, file);
  if (s.ok()) s = DefaultFileSystem()->SyncDir(DirName(file));
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return ReportError(context, s);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::fprintf(stderr, "saved %s in %.2f s (%.1f MB/s)\n", file.c_str(), seconds,
               seconds > 0 ? Megabytes(summary->totals.bytes) / seconds : 0.0);
  Status w = WriteStdout(Summary(*summary));
  return w.ok() ? kExitOk : ReportError(context, w);
}

int RunInspect(const std::string& file) {
  auto summary = CheckImageFile(file);
  if (!summary.ok()) {
    std::fprintf(stdout, "checksum bad\n");
    return ReportError(fmt::format("snapshot inspect {}", file), summary.status());
  }
  Status w = WriteStdout(Summary(*summary));
  return w.ok() ? kExitOk : ReportError("snapshot inspect", w);
}

}  // namespace

void ClientCommands::AddSnapshotCommands(CLI::App& app) {
  auto* snapshot =
      app.add_subcommand("snapshot", "Back up the whole store to a file, inspect or restore one");
  snapshot->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* save = snapshot->add_subcommand(
      "save", "Save a consistent image of the store (GET /snapshot, admin) into FILE");
  save->add_option("FILE", *file, "Where to write the image (FILE.tmp until it is checked)")
      ->required();
  OnRun(save, [file](Client& c) { return RunSave(c, *file); });
  auto* inspect =
      snapshot->add_subcommand("inspect", "Check an image file and print what it holds");
  inspect->add_option("FILE", *file, "The image file")->required();
  inspect->callback([file] { std::exit(RunInspect(*file)); });
  AddRestoreCommands(snapshot, &app);
}

}  // namespace nds::cli

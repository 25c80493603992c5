// Reading values, writing bytes and wording errors for the client subcommands (see
// terminal_io.h).
#include "cli/terminal_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <fmt/format.h>

#include "client/encoding.h"
#include "client/options.h"

namespace nds::cli {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

}  // namespace

Result<std::string> ReadInput(const std::string& path, size_t bytes_max) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "stdin" : fmt::format("'{}'", path);
  if (is_stdin && isatty(STDIN_FILENO)) {
    std::fputs("nds: reading from stdin; end with Ctrl-D\n", stderr);
  }
  FILE* file = is_stdin ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return InvalidArgument(fmt::format("cannot open {} ({})", name, std::strerror(errno)));
  }
  std::string data;
  Status status;
  while (true) {
    const size_t old_size = data.size();
    // Never hold more than bytes_max + 1 bytes: one more than the limit proves it was exceeded.
    const size_t want = std::min(kReadChunkBytes, bytes_max + 1 - old_size);
    data.resize(old_size + want);
    const size_t got = std::fread(data.data() + old_size, 1, want, file);
    data.resize(old_size + got);
    if (data.size() > bytes_max) {
      status = InvalidArgument(fmt::format("{} holds more than {} bytes", name, bytes_max));
      break;
    }
    if (got < want) {
      if (std::ferror(file)) status = IoError(fmt::format("cannot read {}", name));
      break;
    }
  }
  if (!is_stdin) std::fclose(file);
  if (!status.ok()) return status;
  return data;
}

Status WriteStdout(std::string_view bytes) {
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
    return IoError(fmt::format("cannot write to stdout ({})", std::strerror(errno)));
  }
  if (std::fflush(stdout) != 0) {
    return IoError(fmt::format("cannot write to stdout ({})", std::strerror(errno)));
  }
  return Status::Ok();
}

std::string ErrorLine(std::string_view context, const Status& status) {
  const std::string message = OneLine(status.message());
  switch (status.code()) {
    case StatusCode::kUnavailable:
      if (std::string_view(message).starts_with(client::kCannotReachPrefix)) {
        return fmt::format("nds: {}; start a node with 'nds start' or set --server", message);
      }
      return fmt::format("nds: {}: {}", context, message);
    case StatusCode::kTimeout:
      return fmt::format("nds: {}: {} (raise --timeout, or check the cluster with 'nds status')",
                         context, message);
    default:
      return fmt::format("nds: {}: {}", context, message);
  }
}

int ExitStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kNotLeader:
      return kExitUnavailable;
    default:
      return kExitError;
  }
}

int ReportError(std::string_view context, const Status& status) {
  std::fprintf(stderr, "%s\n", ErrorLine(context, status).c_str());
  return ExitStatusFor(status);
}

std::string Quoted(std::string_view bytes) {
  return fmt::format("'{}'", client::EscapeForMessage(bytes));
}

}  // namespace nds::cli

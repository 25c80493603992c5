// The identity file, the removed mark and the state check of a data directory (data_dir_state.h).
#include "node/data_dir_state.h"

#include <charconv>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <sys/stat.h>

#include "util/crc32c.h"
#include "util/file_system.h"

namespace nds::node {
namespace {

constexpr std::string_view kHeader = "nds-identity";
constexpr std::string_view kChecksumKey = "crc32c";
constexpr const char* kFields[] = {"name", "api", "peer", "advertise-api", "advertise-peer"};

std::string* FieldOf(NodeIdentity* id, std::string_view key) {
  if (key == "name") return &id->name;
  if (key == "api") return &id->api;
  if (key == "peer") return &id->peer;
  if (key == "advertise-api") return &id->advertise_api;
  if (key == "advertise-peer") return &id->advertise_peer;
  return nullptr;
}

// Writes `name` in DIR atomically with owner-only permissions, whatever the umask.
Status WriteOwnerOnly(const std::string& dir, std::string_view name, const std::string& bytes,
                      FileSystem* fs = DefaultFileSystem()) {
  mode_t old = ::umask(077);
  Status s = WriteFileAtomically(fs, dir, std::string(name), bytes);
  ::umask(old);
  return s;
}

}  // namespace

std::string EncodeIdentity(const NodeIdentity& id) {
  std::string body = fmt::format("{} {}\n", kHeader, kIdentityVersion);
  NodeIdentity copy = id;
  for (const char* key : kFields) body += fmt::format("{} {}\n", key, *FieldOf(&copy, key));
  return body + fmt::format("{} {:08x}\n", kChecksumKey, crc32c::Value(body));
}

Result<NodeIdentity> DecodeIdentity(std::string_view bytes, std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return Corruption(fmt::format("{} is damaged: {}", what, why));
  };
  size_t sum_at = bytes.rfind(std::string(kChecksumKey) + " ");
  if (sum_at == std::string_view::npos || (sum_at != 0 && bytes[sum_at - 1] != '\n')) {
    return corrupt("no checksum line");
  }
  std::string_view body = bytes.substr(0, sum_at);
  std::string_view sum_text = bytes.substr(sum_at + kChecksumKey.size() + 1);
  if (sum_text.size() != 9 || sum_text.back() != '\n') return corrupt("a bad checksum line");
  uint32_t sum = 0;
  auto [p, ec] = std::from_chars(sum_text.data(), sum_text.data() + 8, sum, 16);
  if (ec != std::errc() || p != sum_text.data() + 8) return corrupt("a bad checksum line");
  if (sum != crc32c::Value(body)) return corrupt("its checksum does not match its contents");

  NodeIdentity id;
  std::map<std::string, bool> seen;
  bool header = false;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    if (nl == std::string_view::npos) return corrupt("a line without its end");
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return corrupt(fmt::format("a bad line '{}'", line));
    std::string_view key = line.substr(0, sp);
    std::string_view value = line.substr(sp + 1);
    if (!header) {
      if (key != kHeader) return corrupt("it is not an nds identity file");
      if (value != std::to_string(kIdentityVersion)) {
        return FailedPrecondition(
            fmt::format("{} has version {}, this nds reads version {}: run the nds that wrote it",
                        what, value, kIdentityVersion));
      }
      header = true;
      continue;
    }
    std::string* field = FieldOf(&id, key);
    if (field == nullptr) return corrupt(fmt::format("an unknown field '{}'", key));
    if (seen[std::string(key)]) return corrupt(fmt::format("field '{}' twice", key));
    seen[std::string(key)] = true;
    *field = std::string(value);
  }
  if (!header) return corrupt("no header");
  for (const char* key : kFields) {
    if (!seen[key]) return corrupt(fmt::format("no field '{}'", key));
  }
  if (id.name.empty()) return corrupt("an empty name");
  return id;
}

Result<std::optional<NodeIdentity>> ReadIdentity(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, kIdentityFileName);
  auto bytes = ReadWholeFile(DefaultFileSystem(), path, kIdentityFileBytesMax);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return std::optional<NodeIdentity>();
    return bytes.status();
  }
  NDS_ASSIGN_OR_RETURN(NodeIdentity id, DecodeIdentity(*bytes, path));
  return std::optional<NodeIdentity>(std::move(id));
}

Status WriteIdentity(const std::string& data_dir, const NodeIdentity& id) {
  for (const char* key : kFields) {
    NodeIdentity copy = id;
    if (FieldOf(&copy, key)->find_first_of("\r\n") != std::string::npos) {
      return InvalidArgument(fmt::format("the node's {} holds a line break", key));
    }
  }
  return WriteOwnerOnly(data_dir, kIdentityFileName, EncodeIdentity(id));
}

Status MarkRemoved(const std::string& data_dir, uint64_t id, const std::string& cluster_id,
                   FileSystem* fs) {
  return WriteOwnerOnly(data_dir, kRemovedFileName,
                        fmt::format("node {} was removed from cluster {}\n", id, cluster_id), fs);
}

std::optional<std::string> RemovedMark(const std::string& data_dir) {
  auto bytes = ReadWholeFile(DefaultFileSystem(), JoinPath(data_dir, kRemovedFileName), 4096);
  if (!bytes.ok()) {
    // A mark that exists but cannot be read still says the node was removed.
    if (bytes.status().code() == StatusCode::kNotFound) return std::nullopt;
    return std::string("(unreadable: ") + bytes.status().message() + ")";
  }
  std::string text = *std::move(bytes);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<std::string> RaftStateIn(const std::string& data_dir) {
  std::vector<std::string> found;
  for (const char* name : {"wal", "snap"}) {
    std::error_code ec;
    std::filesystem::directory_iterator it(JoinPath(data_dir, name), ec);
    if (!ec && it != std::filesystem::directory_iterator()) found.push_back(name);
  }
  return found;
}

}  // namespace nds::node

// The data directory's identity at `nds start`, and the checks made before a join (see
// start_identity.h).
#include "cli/start_identity.h"

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "client/client.h"
#include "node/data_dir_state.h"
#include "util/file_system.h"
#include "wal/meta_file.h"

namespace nds::cli {
namespace {

constexpr std::string_view kTokenFileName = "token";
constexpr uint64_t kTokenFileBytesMax = 4096;

// The flag's saved value when it was not given; a changed one is kept (and logged).
void Adopt(std::string_view flag, bool given, std::string* value, const std::string& saved) {
  if (!given) {
    *value = saved;
  } else if (*value != saved) {
    spdlog::info("{} changes from {} to {}; the member list records it once a leader hears it",
                 flag, saved, *value);
  }
}

}  // namespace

Status CheckEngineHasMeta(const std::string& data_dir, uint64_t applied_index) {
  if (applied_index == 0) return Status::Ok();
  auto meta = wal::ReadMetaFile(DefaultFileSystem(), data_dir);
  if (meta.ok() || meta.status().code() != StatusCode::kNotFound) return Status::Ok();
  return FailedPrecondition(fmt::format(
      "{} holds an engine with data (applied index {}) but no meta file: it was damaged or partly "
      "deleted, and starting would make a new cluster over old data. Restore {}/meta from a "
      "backup of this directory; or move {} away and start with an empty --data and --join ADDR "
      "of a member (remove its old member id first with 'nds leave ID')",
      data_dir, applied_index, data_dir, data_dir));
}

Status AdoptSavedIdentity(const std::string& data_dir, IdentityFlags f) {
  if (auto mark = node::RemovedMark(data_dir)) {
    return FailedPrecondition(fmt::format(
        "{} belongs to a node that was removed from its cluster ({}); it cannot serve again. To "
        "add this machine back: move {} away, then start with an empty --data and --join ADDR "
        "of a member (with the join token); it copies the data from the cluster",
        data_dir, *mark, data_dir));
  }
  auto meta = wal::ReadMetaFile(DefaultFileSystem(), data_dir);
  if (!meta.ok() && meta.status().code() == StatusCode::kNotFound) {
    std::vector<std::string> state = node::RaftStateIn(data_dir);
    if (!state.empty()) {
      return FailedPrecondition(fmt::format(
          "{} holds a Raft log ({}/{}) but no meta file: it was damaged or partly deleted, and "
          "starting would make a new cluster over old data. Restore {}/meta from a backup of "
          "this directory; or move {} away and start with an empty --data and --join ADDR of a "
          "member (the node copies the data from the cluster; remove its old member id first "
          "with 'nds leave ID')",
          data_dir, data_dir, state.front(), data_dir, data_dir));
    }
  }
  NDS_ASSIGN_OR_RETURN(auto saved, node::ReadIdentity(data_dir));
  if (!saved) return Status::Ok();
  if (f.name_given && *f.name != saved->name) {
    return FailedPrecondition(fmt::format(
        "{} belongs to node '{}', not '{}': a node keeps its name. Start without --name (or "
        "with --name {}), or give this node another --data directory",
        data_dir, saved->name, *f.name, saved->name));
  }
  *f.name = saved->name;
  Adopt("--api", f.api_given, f.api, saved->api);
  Adopt("--peer", f.peer_given, f.peer, saved->peer);
  // An advertised address follows its listen address when only that one was given anew.
  Adopt("--advertise-api", f.advertise_api_given || f.api_given, f.advertise_api,
        f.api_given && !f.advertise_api_given ? *f.advertise_api : saved->advertise_api);
  Adopt("--advertise-peer", f.advertise_peer_given || f.peer_given, f.advertise_peer,
        f.peer_given && !f.advertise_peer_given ? *f.advertise_peer : saved->advertise_peer);
  return Status::Ok();
}

Status SaveIdentity(const std::string& data_dir, const node::NodeIdentity& id) {
  auto saved = node::ReadIdentity(data_dir);
  if (saved.ok() && *saved == id) return Status::Ok();
  return node::WriteIdentity(data_dir, id);
}

Status CheckPortFree(const std::string& flag, const std::string& host, uint16_t port) {
  if (port == 0) return Status::Ok();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return InvalidArgument(fmt::format("{}: cannot resolve host '{}'", flag, host));
  }
  Status s;
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) {
    s = IoError(fmt::format("{}: socket: {}", flag, std::strerror(errno)));
  } else {
    int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
      s = Unavailable(fmt::format("{} {}:{} cannot be bound ({}): is another process using it?",
                                  flag, host, port, std::strerror(errno)));
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return s;
}

Result<std::unique_ptr<Client>> ClientForJoin(const std::string& join,
                                              const client::ClientTlsOptions& tls) {
  client::ClientOptions copts;
  auto servers = client::ParseServerList(join);
  if (!servers.ok()) return InvalidArgument("--join: " + servers.status().message());
  copts.servers = *servers;
  copts.tls = tls;
  return Client::Create(copts);
}

Status CheckSameEngine(const std::string& join, const std::string& engine,
                       const client::ClientTlsOptions& tls) {
  NDS_ASSIGN_OR_RETURN(auto c, ClientForJoin(join, tls));
  auto status = c->GetStatus();
  if (!status.ok() || status->engine.empty() || status->engine == engine) return Status::Ok();
  return FailedPrecondition(fmt::format(
      "{} runs the {} engine and this node would run {}: a snapshot of one cannot be installed in "
      "the other, so the join would never complete. Start this node with --engine {}",
      join, status->engine, engine, status->engine));
}

void UndoJoin(const std::string& join, uint64_t id, const client::ClientTlsOptions& tls) {
  auto c = ClientForJoin(join, tls);
  Status s = c.ok() ? (*c)->RemoveMember(NodeId{id}) : c.status();
  if (s.ok()) {
    spdlog::info("removed node {} from the cluster again: it could not start", id);
  } else {
    spdlog::error(
        "node {} was added to the cluster but could not start, and removing it failed ({}): "
        "remove it with 'nds --server {} leave {}'",
        id, s.message(), join, id);
  }
}

std::string ReadSavedToken(const std::string& data) {
  auto bytes =
      ReadWholeFile(DefaultFileSystem(), JoinPath(data, kTokenFileName), kTokenFileBytesMax);
  if (!bytes.ok()) return "";
  std::string token = *bytes;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

// Writes DATA/token durably (atomic replace, synced), readable by its owner only: the files are
// created under umask 077 (start-up runs before any thread that creates files).
Status SaveToken(const std::string& data, const std::string& token) {
  mode_t old = ::umask(077);
  Status s =
      WriteFileAtomically(DefaultFileSystem(), data, std::string(kTokenFileName), token + "\n");
  ::umask(old);
  return s;
}

Status CheckSameCluster(const std::string& join, const std::string& cluster_id,
                        const client::ClientTlsOptions& tls) {
  NDS_ASSIGN_OR_RETURN(auto c, ClientForJoin(join, tls));
  auto status = c->GetStatus();
  if (!status.ok() || status->cluster_id.empty() || status->cluster_id == cluster_id) {
    return Status::Ok();
  }
  return FailedPrecondition("this data directory belongs to cluster " + cluster_id + ", but " +
                            join + " is a member of cluster " + status->cluster_id +
                            "; refusing to mix them (use an empty --data to join that cluster)");
}

}  // namespace nds::cli

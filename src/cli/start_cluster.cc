// `nds start`'s answer to "who is this node": the identity in DATA/meta on a restart, a new
// cluster (its id, secret, join token and, with --auth, root token), or a join through --join.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "cli/one_member_dir.h"
#include "cli/start_identity.h"
#include "cli/start_run.h"
#include "client/client.h"
#include "crypto/access_token.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "crypto/secure.h"
#include "net/tls_context.h"
#include "store/auth_state.h"
#include "wal/meta_file.h"

namespace nds::cli {
namespace {

// Present on the node that made a cluster with --auth.
constexpr std::string_view kAuthMarkerFileName = "auth";

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The root token of a new cluster made with --auth: read from --root-token-file, or made here
// and printed once on stdout. Only its hash leaves this function's caller.
Result<std::string> RootToken(const StartFlags& f) {
  if (f.root_token_file.empty()) {
    std::string token = crypto::GenerateAccessToken(store::kRootTokenName);
    std::cout << "root token: " << token << std::endl;
    return token;
  }
  NDS_ASSIGN_OR_RETURN(std::string token, ReadSecretFile("--root-token-file", f.root_token_file));
  auto name = crypto::AccessTokenName(token);
  if (!name || *name != store::kRootTokenName) {
    return InvalidArgument(fmt::format(
        "--root-token-file {}: the token must read root.<secret>, the secret being {} to {} "
        "base64url characters (letters, digits, '-', '_')",
        f.root_token_file, crypto::kAccessSecretCharsMin, crypto::kAccessSecretCharsMax));
  }
  return token;
}
}  // namespace

// ReadSecretFile with the flag named in its error.
Result<std::string> ReadSecretFile(std::string_view flag, const std::string& path) {
  auto secret = nds::ReadSecretFile(path);
  if (!secret.ok()) return InvalidArgument(fmt::format("{} {}", flag, secret.status().message()));
  return secret;
}
// Who this node is: read from DATA/meta on a restart, made for a new cluster, or obtained by
// joining through --join. Fills the identity fields of `o`.
Status ResolveIdentity(const StartFlags& f, node::RaftNodeOptions* o) {
  std::string token = f.token.empty() ? ReadSavedToken(f.data) : f.token;
  auto meta = wal::ReadMetaFile(DefaultFileSystem(), f.data);
  if (meta.ok() && meta->cluster_secret.empty()) {
    return FailedPrecondition(
        f.data +
        "/meta was written by a version of nds before peers authenticated each other: "
        "its cluster has no secret, and this version refuses unauthenticated peers. Copy "
        "the data into a new cluster started with this version (an empty --data), or run "
        "the old version");
  }
  if (f.auth && !(meta.status().code() == StatusCode::kNotFound && f.join.empty())) {
    spdlog::warn(
        "--auth only takes effect on the first start of a new cluster; this node follows the "
        "mode its cluster was made with");
  }
  if (meta.ok()) {
    if (!f.join.empty()) {
      NDS_RETURN_IF_ERROR(CheckSameCluster(f.join, meta->cluster_id, f.join_tls));
      spdlog::info("{} already belongs to cluster {} as node {}; --join is ignored", f.data,
                   meta->cluster_id, meta->node_id.value);
    }
    o->id = meta->node_id.value;
    o->cluster_id = meta->cluster_id;
    o->cluster_secret = meta->cluster_secret;
    // The founding node may have stopped before its log was written: it bootstraps again then.
    o->bootstrap = meta->node_id.value == 1;
    if (o->bootstrap && FileExists(JoinPath(f.data, kAuthMarkerFileName))) {
      o->seed_commands = {store::AuthModeCommand()};  // ignored once the cluster is seeded
    }
    if (!token.empty()) o->join_token_hash = crypto::HashJoinToken(token);
    return Status::Ok();
  }
  if (meta.status().code() != StatusCode::kNotFound) return meta.status();

  if (f.join.empty()) {
    NDS_ASSIGN_OR_RETURN(o->cluster_id, MakeClusterId());
    NDS_ASSIGN_OR_RETURN(o->cluster_secret, MakeClusterSecret());
    const bool made_token = token.empty();
    if (made_token) token = crypto::GenerateJoinToken();
    NDS_RETURN_IF_ERROR(SaveToken(f.data, token));
    o->id = 1;
    o->bootstrap = true;
    o->join_token_hash = crypto::HashJoinToken(token);
    if (f.auth) {
      NDS_ASSIGN_OR_RETURN(std::string root, RootToken(f));
      o->seed_commands = store::AuthSeedCommands(crypto::HashAccessToken(root));
      crypto::SecureWipe(root);
      // A first node stopped before its log was written bootstraps again on restart (as with
      // DATA/token): it must not make an open cluster then. Only the mode is recorded again, never
      // the root token (which could bring back a revoked root token); see docs/security.md.
      NDS_RETURN_IF_ERROR(WriteFileAtomically(DefaultFileSystem(), f.data,
                                              std::string(kAuthMarkerFileName),
                                              std::string(store::kAuthModeOn) + "\n"));
    }
    // DATA/meta holds the cluster secret: owner-only, like every file (RunNode's umask).
    NDS_RETURN_IF_ERROR(wal::WriteMetaFile(
        DefaultFileSystem(), f.data,
        wal::NodeMeta{o->cluster_id, NodeId{1}, wal::kDataFormatVersion, o->cluster_secret}));
    // A token the operator chose is theirs already: printing it would only put it in a log.
    if (made_token) std::cout << "join token: " << token << std::endl;
    spdlog::info(
        "created cluster {}; other nodes join with --join {} --token-file FILE (FILE holding the "
        "join token above; or NDS_TOKEN)",
        o->cluster_id, o->api_address);
    return Status::Ok();
  }

  if (token.empty()) {
    return InvalidArgument(
        "--join needs the cluster's join token: --token-file FILE, NDS_TOKEN, or --token T");
  }
  NDS_ASSIGN_OR_RETURN(auto c, ClientForJoin(f.join, f.join_tls));
  NDS_RETURN_IF_ERROR(CheckSameEngine(f.join, f.engine, f.join_tls));
  client::JoinRequest req{o->name, o->peer_address, o->api_address, {}};
  if (!f.peer_tls.cert_file.empty()) {
    // Shown to the member that adds this node, which checks it against its peer CA first.
    NDS_ASSIGN_OR_RETURN(
        req.peer_certificate,
        ReadWholeFile(DefaultFileSystem(), f.peer_tls.cert_file, net::kPeerCertificatePemBytesMax));
  }
  auto deadline = std::chrono::steady_clock::now() + f.join_timeout;
  for (int attempt = 1;; ++attempt) {
    auto reply = c->Join(req, token);
    if (reply.ok()) {
      auto secret = crypto::Base64UrlDecode(reply->cluster_secret);
      if (!secret.ok() || secret->size() < wal::kClusterSecretBytesMin ||
          secret->size() > wal::kClusterSecretBytesMax) {
        return FailedPrecondition("joining through " + f.join +
                                  ": the answer holds no usable cluster secret (is that node of an "
                                  "older version?); node " +
                                  std::to_string(reply->id) +
                                  " was added there and must be removed");
      }
      o->id = reply->id;
      o->cluster_id = reply->cluster_id;
      o->cluster_secret = std::move(secret).value();
      for (const auto& m : reply->members) {
        o->known_members.push_back({m.id.value, m.name, m.peer_address, m.api_address});
      }
      NDS_RETURN_IF_ERROR(wal::WriteMetaFile(
          DefaultFileSystem(), f.data,
          wal::NodeMeta{o->cluster_id, NodeId{o->id}, wal::kDataFormatVersion, o->cluster_secret}));
      spdlog::info("joined cluster {} through {} as node {}", o->cluster_id, f.join, o->id);
      return Status::Ok();
    }
    const Status& s = reply.status();
    bool retry = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kTimeout ||
                 s.code() == StatusCode::kNotLeader;
    if (!retry || std::chrono::steady_clock::now() >= deadline) {
      return Status(s.code(), "joining through " + f.join + ": " + s.message());
    }
    spdlog::info("joining through {} (attempt {}): {}; retrying", f.join, attempt, s.message());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace nds::cli

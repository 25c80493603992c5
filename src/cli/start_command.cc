// `nds start`: the composition root of a node. Parses the flags (every Limits field is one),
// opens the engine in the data directory, builds the node, the API service and the HTTP server,
// and runs until SIGTERM or SIGINT.
//
// Teardown order (the reverse of construction): stop the RESP server (its connections close at
// once), then the HTTP server (no new requests; requests in flight finish within the grace
// period), then the node (queued writes are applied), then the engine (closed with the node).
#include "cli/start_command.h"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <signal.h>
#include <span>
#include <string>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "api/lease_keeper.h"
#include "api/service.h"
#include "cli/flag_range.h"
#include "cli/log_setup.h"
#include "cli/one_member_dir.h"
#include "cli/start_flags.h"
#include "cli/start_identity.h"
#include "cli/start_reports.h"
#include "cli/tls_flags.h"
#include "client/client.h"
#include "crypto/access_token.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "crypto/random.h"
#include "crypto/secure.h"
#include "engine/engine_factory.h"
#include "launcher/stop_signals.h"
#include "loadgen/bench_options.h"
#include "net/http.h"
#include "net/tls_context.h"
#include "node/engine_dir.h"
#include "node/raft_node.h"
#include "resp/server.h"
#include "resp/service.h"
#include "store/auth_state.h"
#include "store/keyspace.h"
#include "store/membership.h"
#include "util/host_port.h"
#include "util/limits.h"
#include "wal/meta_file.h"

namespace nds::cli {
namespace {

constexpr uint64_t kIoThreadsMax = 64;

struct StartFlags {
  std::string name = "node1";
  std::string api = "0.0.0.0:7777";
  std::string peer = "0.0.0.0:7778";
  std::string data = "./nds-data";
  std::string engine = "rocksdb";
  std::string join;
  std::string token;
  std::string token_file;       // the join token from a file instead of the command line
  bool auth = false;            // a new cluster requires bearer tokens (docs/security.md)
  std::string root_token_file;  // with --auth: the root token to use instead of a new one
  size_t auth_tokens_max = 1000;
  std::string advertise_api;   // default: --api, with a wildcard host replaced by the host name
  std::string advertise_peer;  // default: --peer, likewise
  std::chrono::milliseconds join_timeout{60'000};
  bool lease_reads = false;
  size_t io_threads = 2;
  std::string resp;  // HOST:PORT of the RESP front; empty: off
  Limits limits;
  net::TlsServerFiles tls;            // --tls-cert, --tls-key, --tls-client-ca
  client::ClientTlsOptions join_tls;  // the global --cacert/--cert/--key, for --join
  net::PeerTlsFiles peer_tls;         // --peer-tls-cert, --peer-tls-key, --peer-tls-ca
  LogFlags log;                       // --log-level, --log-format
  bool print_config = false;          // --print-config: print the flags' values and exit
};

// Splits "host:port" (an empty host is 0.0.0.0); kInvalidArgument naming the flag when it is not
// one.
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& flag,
                                                       const std::string& value) {
  if (value.find(':') == std::string::npos || value.back() == ':') {
    return InvalidArgument(flag + " must be HOST:PORT, got '" + value + "'");
  }
  std::optional<HostPort> hp = nds::SplitHostPort(value);
  if (!hp) return InvalidArgument(flag + " has a bad port in '" + value + "'");
  if (hp->host.empty()) hp->host = "0.0.0.0";
  return std::make_pair(std::move(hp->host), hp->port);
}

// Serves RESP on `address` (HOST:PORT) until the returned server is stopped.
Result<std::unique_ptr<resp::RespServer>> StartResp(const std::string& address, size_t threads,
                                                    resp::RespService* service,
                                                    const Limits& limits) {
  NDS_ASSIGN_OR_RETURN(auto host_port, SplitHostPort("--resp", address));
  resp::RespServerOptions o = resp::ServerOptionsFrom(limits);
  o.address = host_port.first;
  o.port = host_port.second;
  o.threads = threads;
  NDS_ASSIGN_OR_RETURN(auto server, resp::RespServer::Start(o, service));
  spdlog::info("serving RESP (Redis protocol) on {}:{}; it has no authentication: see docs/resp.md",
               o.address, server->port());
  return server;
}

// "0.0.0.0:7777" -> "<host name>:7777": other nodes and clients cannot dial a wildcard.
std::string Advertised(const std::string& flag_value, const std::string& listen) {
  return flag_value.empty() ? AdvertisedAddress(listen) : flag_value;
}

// Present on the node that made a cluster with --auth.
constexpr std::string_view kAuthMarkerFileName = "auth";

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// ReadSecretFile with the flag named in its error.
Result<std::string> ReadSecretFile(std::string_view flag, const std::string& path) {
  auto secret = nds::ReadSecretFile(path);
  if (!secret.ok()) return InvalidArgument(fmt::format("{} {}", flag, secret.status().message()));
  return secret;
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

int RunNode(const StartFlags& f) {
  // Everything this process creates (the data directory, the WAL, RocksDB's files, snapshots)
  // is its owner's only: directories 0700, files 0600. Set before any thread starts.
  ::umask(077);
  if (Status s = f.limits.Validate(); !s.ok()) {
    spdlog::error("invalid limits: {}", s.message());
    return 2;
  }
  if (Status s = f.limits.ValidateResp(); !f.resp.empty() && !s.ok()) {
    spdlog::error("invalid limits: {}", s.message());
    return 2;
  }
  auto api_addr = SplitHostPort("--api", f.api);
  if (!api_addr.ok()) {
    spdlog::error("{}", api_addr.status().message());
    return 2;
  }
  // TLS files are checked before anything is created or joined.
  std::shared_ptr<net::TlsServerContext> tls;
  if (!f.tls.cert_file.empty() || !f.tls.key_file.empty() || !f.tls.client_ca_file.empty()) {
    if (f.tls.cert_file.empty() || f.tls.key_file.empty()) {
      spdlog::error("--tls-cert and --tls-key go together (and --tls-client-ca needs them)");
      return 2;
    }
    auto loaded = net::TlsServerContext::Load(f.tls);
    if (!loaded.ok()) {
      spdlog::error("cannot serve HTTPS: {}", loaded.status().message());
      return 2;
    }
    tls = std::move(loaded).value();
  }
  // Every local resource is checked before anything is created or joined: a join must not
  // leave a member behind that cannot start.
  for (const auto& [flag, value] :
       {std::pair{"--api", f.api}, std::pair{"--peer", f.peer}, std::pair{"--resp", f.resp}}) {
    if (value.empty()) continue;
    auto hp = SplitHostPort(flag, value);
    Status s = hp.ok() ? CheckPortFree(flag, hp->first, hp->second) : hp.status();
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      return 2;
    }
  }
  auto peer_tls = LoadPeerTlsFlags(f.peer_tls);
  if (!peer_tls.ok()) {
    spdlog::error("cannot run peer TLS: {}", peer_tls.status().message());
    return 2;
  }
  if (*peer_tls != nullptr) {
    spdlog::info("peer traffic is mutual TLS: certificate {}, peer CA {}", f.peer_tls.cert_file,
                 f.peer_tls.ca_file);
  }
  std::error_code ec;
  std::filesystem::create_directories(f.data, ec);
  if (ec) {
    spdlog::error("cannot create the data directory {}: {}", f.data, ec.message());
    return 1;
  }
  // One process per data directory: `nds recover` and `nds snapshot restore` test this lock.
  auto dir_lock = DataDirLock::Acquire(f.data);
  if (!dir_lock.ok()) {
    spdlog::error("{}", dir_lock.status().message());
    return 1;
  }
  // A snapshot installed from the leader may have moved the engine (node/engine_dir.h).
  node::RemoveStaleEngineDirs(f.data);
  auto engine_dir = node::CurrentEngineDir(f.data);
  if (!engine_dir.ok()) {
    spdlog::error("cannot tell which engine directory is current: {}",
                  engine_dir.status().ToString());
    return 1;
  }
  auto engine = engine::OpenEngine(f.engine, *engine_dir);
  if (!engine.ok()) {
    spdlog::error("cannot open the {} engine in {}: {}", f.engine, f.data,
                  engine.status().ToString());
    return 1;
  }
  if (Status s = CheckEngineHasMeta(f.data, (*engine)->AppliedIndex().value); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  std::unique_ptr<node::Node> node;
  std::function<void()> stop_node;
  // Declared after `node`, so destroyed (and its dispatcher joined) before the node's engine.
  auto watch_hub = std::make_shared<api::WatchHub>(api::WatchHubOptions{
      .buffer_bytes = f.limits.watch_buffer_bytes, .watchers_max = f.limits.watchers_max});
  std::atomic<bool> stop_progress{false};
  std::thread progress;
  auto peer_addr = SplitHostPort("--peer", f.peer);
  if (!peer_addr.ok()) {
    spdlog::error("{}", peer_addr.status().message());
    return 2;
  }
  node::RaftNodeOptions ropts;
  ropts.name = f.name;
  ropts.api_address = Advertised(f.advertise_api, f.api);
  ropts.peer_address = Advertised(f.advertise_peer, f.peer);
  ropts.peer_listen_host = peer_addr->first;
  ropts.peer_listen_port = peer_addr->second;
  ropts.data_dir = f.data;
  ropts.limits = f.limits;
  ropts.peer_tls = *peer_tls;
  for (const auto& [flag, value] : {std::pair{"--advertise-api", ropts.api_address},
                                    std::pair{"--advertise-peer", ropts.peer_address}}) {
    auto hp = SplitHostPort(flag, value);
    if (!hp.ok() || hp->second == 0) {
      spdlog::error("{}",
                    hp.ok() ? std::string(flag) + " needs a port other than 0, got '" + value + "'"
                            : hp.status().message());
      return 2;
    }
  }
  if (Status s =
          store::ValidateMemberRecord({0, ropts.name, ropts.peer_address, ropts.api_address});
      !s.ok()) {
    spdlog::error("--name/--advertise-*: {}", s.message());
    return 2;
  }
  if (Status s = ResolveIdentity(f, &ropts); !s.ok()) {
    spdlog::error("cannot start the node in {}: {}", f.data, s.ToString());
    return 1;
  }
  bool joining = !ropts.known_members.empty();
  if (Status s =
          SaveIdentity(f.data, {f.name, f.api, f.peer, ropts.api_address, ropts.peer_address});
      !s.ok()) {
    spdlog::error("cannot save the node's identity in {}: {}", f.data, s.ToString());
    return 1;
  }
  ropts.on_applied = [hub = std::weak_ptr<api::WatchHub>(watch_hub)] {
    if (auto h = hub.lock()) h->NotifyApplied();
  };
  auto raft_node = node::RaftNode::Open(std::move(engine).value(), ropts);
  if (!raft_node.ok()) {
    spdlog::error("cannot start the node in {}: {}", f.data, raft_node.status().ToString());
    return 1;
  }
  stop_node = [n = raft_node->get(), timeout = 2 * f.limits.election_timeout] {
    // A planned stop of the leader hands leadership over first: the others need not wait an
    // election timeout to notice it is gone.
    if (Status s = n->HandOffLeadership(timeout); !s.ok()) {
      spdlog::warn("stopping without handing leadership over: {}", s.ToString());
    }
    n->Stop();
  };
  node = std::move(raft_node).value();
  if (joining) progress = StartJoinProgress(node.get(), &stop_progress);

  api::ApiOptions aopts;
  aopts.limits = f.limits;
  aopts.cluster_secret = ropts.cluster_secret;
  aopts.peer_tls = ropts.peer_tls;
  aopts.data_dir = ropts.data_dir;
  aopts.auth_tokens_max = f.auth_tokens_max;
  watch_hub->Start(&node->engine());
  aopts.watch_hub = watch_hub;
  // Expires leases while this node leads (docs/leases.md); stopped before the node.
  auto lease_keeper = std::make_unique<api::LeaseKeeper>(
      node.get(), api::LeaseKeeperOptions{f.limits.lease_check_interval});
  lease_keeper->Start();
  aopts.lease_keeper = lease_keeper.get();
  auto upload_budget = std::make_shared<net::UploadBudget>();
  aopts.upload_budget = upload_budget;
  api::ApiService service(node.get(), aopts);

  net::HttpServerOptions hopts;
  hopts.address = api_addr->first;
  hopts.port = api_addr->second;
  hopts.threads = f.io_threads;
  hopts.header_bytes_max = f.limits.header_bytes_max;
  hopts.body_bytes_max = f.limits.value_bytes_max;
  hopts.upload_bytes_in_flight_max = f.limits.upload_bytes_in_flight_max;
  hopts.upload_budget = upload_budget;
  hopts.header_read_timeout = f.limits.header_read_timeout;
  hopts.idle_timeout = f.limits.idle_timeout;
  hopts.body_bytes_per_second_min = f.limits.body_bytes_per_second_min;
  hopts.connections_max = f.limits.connections_max;
  hopts.pipelined_requests_max = f.limits.pipelined_requests_max;
  hopts.tls = tls;
  auto server = net::HttpServer::Start(hopts, &service);
  if (!server.ok()) {
    spdlog::error("cannot serve on {}: {}", f.api, server.status().ToString());
    stop_progress = true;
    if (progress.joinable()) progress.join();
    if (joining) UndoJoin(f.join, ropts.id, f.join_tls);
    stop_node();
    return 1;
  }
  spdlog::info(
      "nds {} node '{}' serving {} on {}:{} ({} engine, data in {})", NDS_VERSION, f.name,
      tls ? (tls->requires_client_certificate() ? "HTTPS (client certificates required)" : "HTTPS")
          : "HTTP",
      hopts.address, (*server)->port(), f.engine, f.data);
  WarnIfExposed(hopts.address, f.auth || ClusterRequiresTokens(node->engine()), tls != nullptr,
                tls != nullptr && tls->requires_client_certificate());
  resp::RespOptions respopts;
  respopts.limits = f.limits;
  // TTL and PTTL answer the time an expiring key's lease has left by this node's keeper.
  respopts.lease_remaining = [keeper = lease_keeper.get()](uint64_t id) {
    return keeper->Remaining(id);
  };
  resp::RespService resp_service(node.get(), respopts);
  std::unique_ptr<resp::RespServer> resp_server;
  if (!f.resp.empty()) {
    auto started = StartResp(f.resp, f.io_threads, &resp_service, f.limits);
    if (!started.ok()) {
      spdlog::error("cannot serve RESP on {}: {}", f.resp, started.status().ToString());
      (*server)->Stop(std::chrono::seconds(0));
      stop_progress = true;
      if (progress.joinable()) progress.join();
      if (joining) UndoJoin(f.join, ropts.id, f.join_tls);
      stop_node();
      return 1;
    }
    resp_server = std::move(started).value();
  }

  // Wait for SIGTERM/SIGINT (SIGHUP reloads TLS); they were blocked in every thread before any
  // was started.
  int sig = WaitForStopReloadingTls(tls.get(), peer_tls->get());
  spdlog::info("signal {}: stopping", sig);
  if (resp_server) resp_server->Stop();
  watch_hub->Stop();
  (*server)->Stop(std::chrono::seconds(5));
  stop_progress = true;
  if (progress.joinable()) progress.join();
  lease_keeper.reset();
  stop_node();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void RegisterStartCommand(CLI::App& app) {
  auto flags = std::make_shared<StartFlags>();
  auto* start = app.add_subcommand("start", "Run a node in the foreground until SIGTERM/SIGINT");
  start->add_option("--name", flags->name, "This node's name (a restart keeps the saved one)")
      ->capture_default_str();
  start->add_option("--api", flags->api, "HOST:PORT for the HTTP API (a restart: the saved one)")
      ->capture_default_str();
  start->add_option("--peer", flags->peer, "HOST:PORT for peer traffic (a restart: the saved one)")
      ->capture_default_str();
  start->add_option("--data", flags->data, "Data directory")->capture_default_str();
  start->add_option("--engine", flags->engine, "Storage engine")
      ->capture_default_str()
      ->check(CLI::IsMember({"rocksdb", "memory"}));
  start->add_option("--join", flags->join, "API address of any member of the cluster to join");
  start
      ->add_option("--token", flags->token,
                   "The cluster's join token (visible to other local users in the "
                   "process list: prefer --token-file or NDS_TOKEN)")
      ->envname("NDS_TOKEN");
  start->add_option("--token-file", flags->token_file,
                    "Read the join token from FILE (its first line; wins over --token)");
  start->add_flag("--auth", flags->auth,
                  "Make a new cluster that requires a bearer token on every request but "
                  "/healthz, /readyz, /role and /metrics; prints the root token once");
  start->add_option("--root-token-file", flags->root_token_file,
                    "With --auth: use the root token in FILE (root.<secret>) instead of a new one");
  start
      ->add_option("--max-auth-tokens", flags->auth_tokens_max,
                   "Access tokens the cluster may hold")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  start->add_option("--advertise-api", flags->advertise_api,
                    "HOST:PORT other nodes and clients use for this node's API (default: --api, "
                    "a wildcard host replaced by the host name)");
  start->add_option("--advertise-peer", flags->advertise_peer,
                    "HOST:PORT other nodes dial for peer traffic (default: --peer, likewise)");
  start->add_flag("--lease-reads", flags->lease_reads,
                  "Serve linearizable reads on the leader from its lease, without a heartbeat "
                  "round (relies on bounded clock drift; see docs/cluster.md)");
  AddMillisFlag(start, "--join-timeout-ms", &flags->join_timeout,
                "How long --join keeps retrying while the cluster is unavailable");
  start->add_option("--io-threads", flags->io_threads, "Threads serving HTTP")
      ->capture_default_str()
      ->check(WholeInRange(1, kIoThreadsMax));
  AddLimitFlags(start, &flags->limits);
  start->add_option("--resp", flags->resp,
                    "HOST:PORT to also serve the Redis protocol (RESP2) on; off when not given. "
                    "No authentication: bind it to a trusted network (docs/resp.md)");
  AddRespLimitFlags(start, &flags->limits);
  start->add_option("--tls-cert", flags->tls.cert_file,
                    "PEM certificate (chain) of the API: serve HTTPS only (reloaded on SIGHUP)");
  start->add_option("--tls-key", flags->tls.key_file, "PEM private key of --tls-cert");
  start->add_option("--tls-client-ca", flags->tls.client_ca_file,
                    "PEM CA: API clients must present a certificate it signed");
  AddPeerTlsFlags(start, &flags->peer_tls);
  AddLogFlags(start, &flags->log);
  AddConfigSources(start, &flags->print_config);  // last: every flag gets its NDS_<FLAG>
  start->callback([flags, start, &app] {
    if (flags->print_config) std::exit(std::fputs(EffectiveConfig(start).c_str(), stdout) < 0);
    if (Status s = SetUpLogging(flags->log); !s.ok()) {
      std::fprintf(stderr, "nds: %s\n", s.message().c_str());
      std::exit(2);
    }
    flags->join_tls = loadgen::ClientTlsFlagValues(app);
    // A data directory that already holds a node restarts it as it was (cli/start_identity.h).
    IdentityFlags identity{&flags->name,
                           &flags->api,
                           &flags->peer,
                           &flags->advertise_api,
                           &flags->advertise_peer,
                           start->count("--name") > 0,
                           start->count("--api") > 0,
                           start->count("--peer") > 0,
                           start->count("--advertise-api") > 0,
                           start->count("--advertise-peer") > 0};
    if (Status s = AdoptSavedIdentity(flags->data, identity); !s.ok()) {
      spdlog::error("cannot start the node in {}: {}", flags->data, s.message());
      std::exit(1);
    }
    // Block the stop signals (and SIGHUP, the TLS reload) before any thread starts, so that only
    // the main thread sees them.
    launcher::BlockStopSignals();
    if (!flags->token_file.empty()) {
      auto token = ReadSecretFile("--token-file", flags->token_file);
      if (!token.ok()) {
        spdlog::error("{}", token.status().message());
        std::exit(2);
      }
      flags->token = *std::move(token);
    }
    if (!flags->root_token_file.empty() && !flags->auth) {
      spdlog::error("--root-token-file needs --auth");
      std::exit(2);
    }
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, nullptr);
    std::exit(RunNode(*flags));
  });
}

}  // namespace nds::cli

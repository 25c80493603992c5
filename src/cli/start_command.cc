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
#include <string>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "api/service.h"
#include "client/client.h"
#include "crypto/join_token.h"
#include "crypto/random.h"
#include "engine/engine_factory.h"
#include "launcher/stop_signals.h"
#include "net/http.h"
#include "node/engine_dir.h"
#include "node/raft_node.h"
#include "resp/server.h"
#include "resp/service.h"
#include "store/membership.h"
#include "util/limits.h"
#include "wal/meta_file.h"

namespace nds::cli {
namespace {

struct StartFlags {
  std::string name = "node1";
  std::string api = "0.0.0.0:7777";
  std::string peer = "0.0.0.0:7778";
  std::string data = "./nds-data";
  std::string engine = "rocksdb";
  std::string join;
  std::string token;
  std::string advertise_api;   // default: --api, with a wildcard host replaced by the host name
  std::string advertise_peer;  // default: --peer, likewise
  std::chrono::milliseconds join_timeout{60'000};
  bool lease_reads = false;
  size_t io_threads = 2;
  std::string resp;  // HOST:PORT of the RESP front; empty: off
  Limits limits;
};

// Splits "host:port"; kInvalidArgument naming the flag when it is not one.
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& flag,
                                                       const std::string& value) {
  size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon + 1 == value.size()) {
    return InvalidArgument(flag + " must be HOST:PORT, got '" + value + "'");
  }
  std::string host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const char* b = value.data() + colon + 1;
  const char* e = value.data() + value.size();
  auto [p, ec] = std::from_chars(b, e, port);
  if (ec != std::errc() || p != e || port > 65535) {
    return InvalidArgument(flag + " has a bad port in '" + value + "'");
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, static_cast<uint16_t>(port));
}

template <typename Rep>
void AddMillisFlag(CLI::App* app, const std::string& name,
                   std::chrono::duration<Rep, std::milli>* d, const std::string& help) {
  app->add_option_function<int64_t>(
         name, [d](int64_t v) { *d = std::chrono::milliseconds(v); }, help)
      ->default_str(std::to_string(d->count()))
      ->check(CLI::PositiveNumber);
}

void AddLimitFlags(CLI::App* app, Limits* l) {
  auto bytes = [&](const std::string& name, size_t* v, const std::string& help) {
    app->add_option(name, *v, help)->capture_default_str()->check(CLI::PositiveNumber);
  };
  bytes("--max-value-bytes", &l->value_bytes_max, "Largest value or blob accepted (413 above)");
  bytes("--max-header-bytes", &l->header_bytes_max, "Request line plus headers, at most");
  AddMillisFlag(app, "--header-read-timeout-ms", &l->header_read_timeout,
                "A client must send its whole header within this time");
  AddMillisFlag(app, "--idle-timeout-ms", &l->idle_timeout, "Close idle keep-alive connections");
  bytes("--min-body-bytes-per-second", &l->body_bytes_per_second_min,
        "A request body must arrive at least this fast");
  bytes("--max-connections", &l->connections_max, "Open client connections at most");
  bytes("--max-pipelined-requests", &l->pipelined_requests_max,
        "Requests parsed ahead per connection");
  AddMillisFlag(app, "--request-timeout-ms", &l->request_timeout,
                "A write or read not done in this time gets 503");
  bytes("--max-proposals-in-flight", &l->proposals_in_flight_max,
        "Writes waiting to be applied; more get 503");
  bytes("--max-proposal-bytes-in-flight", &l->proposal_bytes_in_flight_max,
        "Bytes of writes waiting to be applied; more get 503");
  bytes("--max-pending-reads", &l->pending_reads_max, "Linearizable reads waiting at most");
  bytes("--stream-chunk-bytes", &l->stream_chunk_bytes, "Chunk size of streamed listings");
  AddMillisFlag(app, "--heartbeat-ms", &l->heartbeat_interval, "Raft heartbeat interval");
  AddMillisFlag(app, "--election-timeout-ms", &l->election_timeout, "Raft election timeout");
  AddMillisFlag(app, "--lease-ms", &l->lease_duration, "Leader lease (< election timeout)");
  bytes("--max-append-entries", &l->append_entries_max, "Entries per append message");
  bytes("--max-message-bytes", &l->message_bytes_max, "Bytes per peer message");
  bytes("--max-append-messages-in-flight", &l->append_messages_in_flight_max,
        "Append messages in flight per follower");
  bytes("--max-append-bytes-in-flight", &l->append_bytes_in_flight_max,
        "Entry bytes in flight per follower");
  bytes("--max-peer-inbox-frames", &l->peer_inbox_frames_max,
        "Peer frames waiting for the Raft loop; more are dropped");
  bytes("--snapshot-chunk-bytes", &l->snapshot_chunk_bytes, "Snapshot transfer chunk size");
  AddMillisFlag(app, "--snapshot-send-timeout-ms", &l->snapshot_send_timeout,
                "Abandon a snapshot stream to a follower after this");
  bytes("--snapshot-entries", &l->snapshot_entries,
        "Snapshot the engine and compact the Raft log every this many applied entries");
  bytes("--snapshot-bytes", &l->snapshot_bytes,
        "... or once this many bytes of entries were applied since the last snapshot");
  bytes("--wal-segment-bytes", &l->wal_segment_bytes, "Size of each WAL segment file");
  bytes("--min-free-disk-bytes", &l->disk_free_bytes_min,
        "Writes get 507 while the data disk has less free space than this");
}

// The RESP front's limits (docs/resp.md); --max-value-bytes bounds its bulk strings too.
void AddRespLimitFlags(CLI::App* app, Limits* l) {
  auto count = [&](const std::string& name, size_t* v, const std::string& help) {
    app->add_option(name, *v, help)->capture_default_str()->check(CLI::PositiveNumber);
  };
  count("--resp-max-connections", &l->resp_connections_max, "Open RESP connections at most");
  count("--resp-max-array-elements", &l->resp_array_elements_max,
        "Arguments of one RESP command at most");
  count("--resp-max-inline-bytes", &l->resp_inline_bytes_max,
        "Bytes of one inline (typed) RESP command at most");
  count("--resp-max-command-bytes", &l->resp_command_bytes_max,
        "Bytes of one RESP command at most (must hold a SET of --max-value-bytes)");
  AddMillisFlag(app, "--resp-idle-timeout-ms", &l->resp_idle_timeout,
                "Close RESP connections idle this long");
  count("--resp-max-pipelined-commands", &l->resp_pipelined_commands_max,
        "RESP commands parsed ahead of their replies per connection");
  count("--resp-max-scan-cursors", &l->resp_scan_cursors_max,
        "SCAN cursors remembered (least recently used forgotten first)");
  count("--resp-max-keys", &l->resp_keys_max, "Keys one KEYS reply holds at most");
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
  if (!flag_value.empty()) return flag_value;
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    char name[256] = {};
    host = ::gethostname(name, sizeof name - 1) == 0 && name[0] != 0 ? name : "localhost";
  }
  return host + listen.substr(colon);
}

constexpr std::string_view kTokenFileName = "token";
constexpr uint64_t kTokenFileBytesMax = 4096;

// The join token saved in DATA/token by the node that created the cluster, or "".
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

Result<std::string> NewClusterId() {
  uint8_t bytes[16];
  NDS_RETURN_IF_ERROR(crypto::RandomBytes(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (uint8_t b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

// A data directory of cluster `cluster_id` started with --join `join`: refuses when `join`
// answers for another cluster. A member that does not answer is no reason to refuse a restart.
Status CheckSameCluster(const std::string& join, const std::string& cluster_id) {
  client::ClientOptions copts;
  auto servers = client::ParseServerList(join);
  if (!servers.ok()) return InvalidArgument("--join: " + servers.status().message());
  copts.servers = *servers;
  NDS_ASSIGN_OR_RETURN(auto c, Client::Create(copts));
  auto status = c->GetStatus();
  if (!status.ok() || status->cluster_id.empty() || status->cluster_id == cluster_id) {
    return Status::Ok();
  }
  return FailedPrecondition("this data directory belongs to cluster " + cluster_id + ", but " +
                            join + " is a member of cluster " + status->cluster_id +
                            "; refusing to mix them (use an empty --data to join that cluster)");
}

// Who this node is: read from DATA/meta on a restart, made for a new cluster, or obtained by
// joining through --join. Fills the identity fields of `o`.
Status ResolveIdentity(const StartFlags& f, node::RaftNodeOptions* o) {
  std::string token = f.token.empty() ? ReadSavedToken(f.data) : f.token;
  auto meta = wal::ReadMetaFile(DefaultFileSystem(), f.data);
  if (meta.ok()) {
    if (!f.join.empty()) {
      NDS_RETURN_IF_ERROR(CheckSameCluster(f.join, meta->cluster_id));
      spdlog::info("{} already belongs to cluster {} as node {}; --join is ignored", f.data,
                   meta->cluster_id, meta->node_id.value);
    }
    o->id = meta->node_id.value;
    o->cluster_id = meta->cluster_id;
    // The founding node may have stopped before its log was written: it bootstraps again then.
    o->bootstrap = meta->node_id.value == 1;
    if (!token.empty()) o->join_token_hash = crypto::HashJoinToken(token);
    return Status::Ok();
  }
  if (meta.status().code() != StatusCode::kNotFound) return meta.status();

  if (f.join.empty()) {
    NDS_ASSIGN_OR_RETURN(o->cluster_id, NewClusterId());
    if (token.empty()) token = crypto::GenerateJoinToken();
    NDS_RETURN_IF_ERROR(SaveToken(f.data, token));
    o->id = 1;
    o->bootstrap = true;
    o->join_token_hash = crypto::HashJoinToken(token);
    NDS_RETURN_IF_ERROR(
        wal::WriteMetaFile(DefaultFileSystem(), f.data, wal::NodeMeta{o->cluster_id, NodeId{1}}));
    std::cout << "join token: " << token << std::endl;
    spdlog::info("created cluster {}; other nodes join with --join {} --token <the token above>",
                 o->cluster_id, o->api_address);
    return Status::Ok();
  }

  if (token.empty()) {
    return InvalidArgument("--join needs the cluster's join token: --token T or NDS_TOKEN");
  }
  client::ClientOptions copts;
  auto servers = client::ParseServerList(f.join);
  if (!servers.ok()) return InvalidArgument("--join: " + servers.status().message());
  copts.servers = *servers;
  NDS_ASSIGN_OR_RETURN(auto c, Client::Create(copts));
  client::JoinRequest req{o->name, o->peer_address, o->api_address};
  auto deadline = std::chrono::steady_clock::now() + f.join_timeout;
  for (int attempt = 1;; ++attempt) {
    auto reply = c->Join(req, token);
    if (reply.ok()) {
      o->id = reply->id;
      o->cluster_id = reply->cluster_id;
      for (const auto& m : reply->members) {
        o->known_members.push_back({m.id.value, m.name, m.peer_address, m.api_address});
      }
      NDS_RETURN_IF_ERROR(wal::WriteMetaFile(DefaultFileSystem(), f.data,
                                             wal::NodeMeta{o->cluster_id, NodeId{o->id}}));
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

// Logs a joining node's progress (applied of committed) until it is a caught-up voter.
std::thread StartJoinProgress(const node::Node* n, std::atomic<bool>* stop) {
  return std::thread([n, stop] {
    for (int i = 0; i < 3600 && !stop->load(); ++i) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      node::NodeStatus s = n->GetStatus();
      if (s.role != node::Role::kLearner && s.ready) {
        if (i > 0) spdlog::info("caught up: node {} is a {}", s.id, node::RoleName(s.role));
        return;
      }
      spdlog::info("catching up: {} applied of {} committed ({})", s.applied_index, s.commit_index,
                   node::RoleName(s.role));
    }
  });
}

int RunNode(const StartFlags& f) {
  if (Status s = f.limits.Validate(); !s.ok()) {
    spdlog::error("invalid limits: {}", s.message());
    return 2;
  }
  auto api_addr = SplitHostPort("--api", f.api);
  if (!api_addr.ok()) {
    spdlog::error("{}", api_addr.status().message());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(f.data, ec);
  if (ec) {
    spdlog::error("cannot create the data directory {}: {}", f.data, ec.message());
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
  std::unique_ptr<node::Node> node;
  std::function<void()> stop_node;
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
  api::ApiService service(node.get(), aopts);

  net::HttpServerOptions hopts;
  hopts.address = api_addr->first;
  hopts.port = api_addr->second;
  hopts.threads = f.io_threads;
  hopts.header_bytes_max = f.limits.header_bytes_max;
  hopts.body_bytes_max = f.limits.value_bytes_max;
  hopts.header_read_timeout = f.limits.header_read_timeout;
  hopts.idle_timeout = f.limits.idle_timeout;
  hopts.body_bytes_per_second_min = f.limits.body_bytes_per_second_min;
  hopts.connections_max = f.limits.connections_max;
  hopts.pipelined_requests_max = f.limits.pipelined_requests_max;
  auto server = net::HttpServer::Start(hopts, &service);
  if (!server.ok()) {
    spdlog::error("cannot serve on {}: {}", f.api, server.status().ToString());
    return 1;
  }
  spdlog::info("nds {} node '{}' serving on {}:{} ({} engine, data in {})", NDS_VERSION, f.name,
               hopts.address, (*server)->port(), f.engine, f.data);
  resp::RespOptions respopts;
  respopts.limits = f.limits;
  resp::RespService resp_service(node.get(), respopts);
  std::unique_ptr<resp::RespServer> resp_server;
  if (!f.resp.empty()) {
    auto started = StartResp(f.resp, f.io_threads, &resp_service, f.limits);
    if (!started.ok()) {
      spdlog::error("cannot serve RESP on {}: {}", f.resp, started.status().ToString());
      (*server)->Stop(std::chrono::seconds(0));
      stop_progress = true;
      if (progress.joinable()) progress.join();
      stop_node();
      return 1;
    }
    resp_server = std::move(started).value();
  }

  // Wait for SIGTERM/SIGINT; they were blocked in every thread before any was started.
  int sig = launcher::WaitForStopSignal();
  spdlog::info("signal {}: stopping", sig);
  if (resp_server) resp_server->Stop();
  (*server)->Stop(std::chrono::seconds(5));
  stop_progress = true;
  if (progress.joinable()) progress.join();
  stop_node();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void RegisterStartCommand(CLI::App& app) {
  auto flags = std::make_shared<StartFlags>();
  auto* start = app.add_subcommand("start", "Run a node in the foreground until SIGTERM/SIGINT");
  start->add_option("--name", flags->name, "This node's name")->capture_default_str();
  start->add_option("--api", flags->api, "HOST:PORT for the HTTP API")->capture_default_str();
  start->add_option("--peer", flags->peer, "HOST:PORT for peer traffic")->capture_default_str();
  start->add_option("--data", flags->data, "Data directory")->capture_default_str();
  start->add_option("--engine", flags->engine, "Storage engine")
      ->capture_default_str()
      ->check(CLI::IsMember({"rocksdb", "memory"}));
  start->add_option("--join", flags->join, "API address of any member of the cluster to join");
  start->add_option("--token", flags->token, "The cluster's join token")->envname("NDS_TOKEN");
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
      ->check(CLI::Range(1, 64));
  AddLimitFlags(start, &flags->limits);
  start->add_option("--resp", flags->resp,
                    "HOST:PORT to also serve the Redis protocol (RESP2) on; off when not given. "
                    "No authentication: bind it to a trusted network (docs/resp.md)");
  AddRespLimitFlags(start, &flags->limits);
  start->callback([flags] {
    // Block the stop signals before any thread starts, so that only the main thread sees them.
    launcher::BlockStopSignals();
    std::exit(RunNode(*flags));
  });
}

}  // namespace nds::cli

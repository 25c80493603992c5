// `nds start`'s running node: checks every local resource (limits, ports, TLS files, the data
// directory and its lock) before anything is created or joined, then builds the node, the API
// service, the HTTP server and the RESP front, and runs until SIGTERM or SIGINT.
//
// Teardown order (the reverse of construction): stop the RESP server (its connections close at
// once), then the HTTP server (no new requests; requests in flight finish within the grace
// period), then the node (queued writes are applied), then the engine (closed with the node).
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "api/lease_keeper.h"
#include "api/service.h"
#include "cli/one_member_dir.h"
#include "cli/start_identity.h"
#include "cli/start_reports.h"
#include "cli/start_run.h"
#include "cli/tls_flags.h"
#include "launcher/stop_signals.h"
#include "net/http.h"
#include "net/tls_context.h"
#include "node/engine_dir.h"
#include "node/raft_node.h"
#include "resp/server.h"
#include "resp/service.h"
#include "store/engine_options.h"
#include "store/membership.h"
#include "util/host_port.h"
#include "util/memory_trimmer.h"

namespace nds::cli {
namespace {

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
  spdlog::info(
      "serving RESP (Redis protocol) on {}:{} with {} thread(s); in a cluster made with --auth "
      "clients AUTH with a token, else anyone who reaches it may read and write (docs/resp.md)",
      o.address, server->port(), threads);
  return server;
}

// "0.0.0.0:7777" -> "<host name>:7777": other nodes and clients cannot dial a wildcard.
std::string Advertised(const std::string& flag_value, const std::string& listen) {
  return flag_value.empty() ? AdvertisedAddress(listen) : flag_value;
}
}  // namespace

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
  auto engine = store::OpenStoreEngine(f.engine, *engine_dir);
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
  ropts.lease_reads = f.lease_reads;
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
  ropts.on_applied = [hub = std::weak_ptr<api::WatchHub>(watch_hub)](store::AppliedEvents* e) {
    if (auto h = hub.lock()) h->NotifyApplied(e);
  };
  ropts.capture_events_bytes = [hub = std::weak_ptr<api::WatchHub>(watch_hub)] {
    auto h = hub.lock();
    return h ? h->CaptureBytes() : size_t{0};
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
  auto lease_keeper = std::make_shared<api::LeaseKeeper>(
      node.get(), api::LeaseKeeperOptions{f.limits.lease_check_interval});
  lease_keeper->Start();
  // Gives the heap's freed buffers back once a burst of big values is over.
  MemoryTrimmer memory_trimmer({f.limits.memory_trim_interval, f.limits.memory_trim_free_bytes_min},
                               GlibcTrimmerHooks([n = node.get()] {
                                 const node::NodeMetrics& m = n->metrics();
                                 return m.wal_entry_bytes.load(std::memory_order_relaxed) +
                                        m.applied_entry_bytes.load(std::memory_order_relaxed);
                               }));
  memory_trimmer.Start();
  aopts.lease_keeper = lease_keeper;
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
    auto started = StartResp(f.resp, f.resp_threads, &resp_service, f.limits);
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
  lease_keeper->Stop();
  stop_node();
  spdlog::info("stopped");
  return 0;
}
}  // namespace nds::cli

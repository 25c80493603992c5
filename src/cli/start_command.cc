// `nds start`: the composition root of a node. Parses the flags (every Limits field is one),
// opens the engine in the data directory, builds the node, the API service and the HTTP server,
// and runs until SIGTERM or SIGINT.
//
// Teardown order (the reverse of construction): stop the HTTP server (no new requests; requests
// in flight finish within the grace period), then the node (queued writes are applied), then the
// engine (closed with the node).
#include "cli/start_command.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <signal.h>
#include <string>

#include <spdlog/spdlog.h>

#include "api/service.h"
#include "engine/engine_factory.h"
#include "net/http.h"
#include "node/local_node.h"
#include "node/raft_node.h"
#include "util/limits.h"

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
  // "local" (LocalNode, today's default) or "raft" (RaftNode: writes go through the Raft log).
  // Hidden while the Raft-backed node is being completed (docs/cluster.md).
  std::string replication = "local";
  size_t io_threads = 2;
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
  bytes("--snapshot-chunk-bytes", &l->snapshot_chunk_bytes, "Snapshot transfer chunk size");
  bytes("--wal-segment-bytes", &l->wal_segment_bytes, "Size of each WAL segment file");
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
  if (!f.join.empty() || !f.token.empty()) {
    spdlog::warn(
        "--join and --token are accepted but this build runs a single node; they are "
        "ignored");
  }
  std::error_code ec;
  std::filesystem::create_directories(f.data, ec);
  if (ec) {
    spdlog::error("cannot create the data directory {}: {}", f.data, ec.message());
    return 1;
  }
  auto engine = engine::OpenEngine(f.engine, f.data + "/engine");
  if (!engine.ok()) {
    spdlog::error("cannot open the {} engine in {}: {}", f.engine, f.data,
                  engine.status().ToString());
    return 1;
  }
  std::unique_ptr<node::Node> node;
  std::function<void()> stop_node;
  if (f.replication == "raft") {
    node::RaftNodeOptions ropts;
    ropts.name = f.name;
    ropts.api_address = f.api;
    ropts.peer_address = f.peer;
    ropts.data_dir = f.data;
    ropts.limits = f.limits;
    auto raft_node = node::RaftNode::Open(std::move(engine).value(), ropts);
    if (!raft_node.ok()) {
      spdlog::error("cannot start the node in {}: {}", f.data, raft_node.status().ToString());
      return 1;
    }
    stop_node = [n = raft_node->get()] { n->Stop(); };
    node = std::move(raft_node).value();
  } else {
    node::LocalNodeOptions nopts;
    nopts.name = f.name;
    nopts.api_address = f.api;
    nopts.peer_address = f.peer;
    nopts.limits = f.limits;
    auto local = std::make_unique<node::LocalNode>(std::move(engine).value(), nopts);
    stop_node = [n = local.get()] { n->Stop(); };
    node = std::move(local);
  }

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

  // Wait for SIGTERM/SIGINT; they were blocked in every thread before any was started.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*server)->Stop(std::chrono::seconds(5));
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
  start
      ->add_option("--replication", flags->replication,
                   "local (one node, no log) or raft (through the Raft log)")
      ->envname("NDS_REPLICATION")
      ->check(CLI::IsMember({"local", "raft"}))
      ->group("");  // hidden until the Raft-backed node is complete
  start->add_option("--io-threads", flags->io_threads, "Threads serving HTTP")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  AddLimitFlags(start, &flags->limits);
  start->callback([flags] {
    // Block the stop signals before any thread starts, so that only sigwait sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::exit(RunNode(*flags));
  });
}

}  // namespace nds::cli

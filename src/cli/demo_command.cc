// `nds demo` (demo_command.h): flags, the port check, LocalCluster, the printed guide, and the
// wait for a stop signal.
#include "cli/demo_command.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <signal.h>
#include <string>
#include <unistd.h>

#include "cli/flag_range.h"
#include "cli/log_setup.h"
#include "crypto/join_token.h"
#include "launcher/local_cluster.h"
#include "launcher/stop_signals.h"
#include "net/loopback_port.h"
#include "util/status.h"

namespace nds::cli {
namespace {

constexpr size_t kNodesMax = 7;
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kNodeStartTimeout = std::chrono::seconds(60);

struct DemoFlags {
  size_t nodes = 3;
  std::string data = "./nds-demo";
  uint16_t api_port = 7777;
  std::string engine = "rocksdb";
  LogFlags log;  // handed to every node: the demo itself logs nothing
};

// This executable's path, so that every node runs the same build as `nds demo` itself.
std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The token of the cluster an earlier `nds demo` made in `data` (kept in data/token), or a new
// one, kept there for the next run. kIoError when it cannot be kept.
Result<std::string> TokenFor(const std::string& data) {
  std::string token = FirstLine(data + "/token");
  if (!token.empty()) return token;
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return IoError("cannot create " + data + ": " + ec.message());
  token = crypto::GenerateJoinToken();
  std::ofstream out(data + "/token", std::ios::trunc);
  out << token << "\n";
  out.close();
  if (!out) return IoError("cannot write " + data + "/token");
  std::filesystem::permissions(
      data + "/token", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      ec);  // a secret: readable by its owner only
  return token;
}

// Every port the cluster will listen on must be free before the first node starts.
Status CheckPorts(const DemoFlags& f) {
  if (f.api_port + 10 * (f.nodes - 1) + 1 > 65535) {
    return InvalidArgument("--api-port " + std::to_string(f.api_port) + " leaves no room for " +
                           std::to_string(f.nodes) + " nodes (node i uses api-port + 10*i)");
  }
  for (size_t i = 0; i < f.nodes; ++i) {
    for (int peer = 0; peer < 2; ++peer) {
      auto port = static_cast<uint16_t>(f.api_port + 10 * i + peer);
      if (!net::PortFree(port)) {
        return Unavailable("port 127.0.0.1:" + std::to_string(port) + " (node" +
                           std::to_string(i + 1) + "'s " + (peer ? "peer" : "API") +
                           " port) is in use; stop what uses it or choose another --api-port");
      }
    }
  }
  return Status::Ok();
}

void PrintGuide(launcher::LocalCluster& cluster, const DemoFlags& f) {
  std::printf("nds demo: %zu nodes running (%s engine); Ctrl-C stops them all\n\n", cluster.size(),
              f.engine.c_str());
  for (size_t i = 0; i < cluster.size(); ++i) {
    const launcher::NodeSpec& spec = cluster.node(i).spec();
    std::printf("  %-6s api %-16s data %s  (log %s)\n", spec.name.c_str(),
                cluster.node(i).api_address().c_str(), spec.data_dir.c_str(),
                spec.log_path.c_str());
  }
  std::string servers = cluster.ServerList();
  std::printf("\njoin token: %s\n\nTry:\n", cluster.token().c_str());
  std::printf("  nds --server %s set 123\n", servers.c_str());
  std::printf("  nds --server %s read\n", cluster.node(cluster.size() - 1).api_address().c_str());
  std::printf("  nds --server %s members\n", servers.c_str());
  std::printf("  for n in %s; do nds --server $n role; done\n",
              [&] {
                std::string s;
                for (const auto& a : cluster.ApiAddresses()) s += (s.empty() ? "" : " ") + a;
                return s;
              }()
                  .c_str());
  std::printf("  nds --server %s bench --duration 10s\n", servers.c_str());
  size_t next = cluster.size() + 1;
  std::printf(
      "  nds start --name node%zu --api 127.0.0.1:%zu --peer 127.0.0.1:%zu --data %s/node%zu "
      "--join %s --token %s\n\n",
      next, f.api_port + 10 * (next - 1), f.api_port + 10 * (next - 1) + 1, f.data.c_str(), next,
      cluster.node(0).api_address().c_str(), cluster.token().c_str());
  std::fflush(stdout);
}

int RunDemo(const DemoFlags& f) {
  if (Status s = CheckPorts(f); !s.ok()) {
    std::fprintf(stderr, "nds demo: %s\n", s.message().c_str());
    return 1;
  }
  Result<std::string> token = TokenFor(f.data);
  if (!token.ok()) {
    std::fprintf(stderr, "nds demo: %s\n", token.status().message().c_str());
    return 1;
  }
  launcher::LocalClusterOptions options;
  options.binary = SelfPath();
  options.base_dir = f.data;
  options.nodes = f.nodes;
  options.token = *token;
  options.first_api_port = f.api_port;
  options.first_peer_port = static_cast<uint16_t>(f.api_port + 1);
  options.extra_args = {"--engine",  f.engine,       "--log-level",
                        f.log.level, "--log-format", f.log.format};
  options.start_timeout = kNodeStartTimeout;
  launcher::LocalCluster cluster(options);
  std::printf("nds demo: starting %zu nodes in %s ...\n", f.nodes, f.data.c_str());
  std::fflush(stdout);
  if (Status s = cluster.Start(); !s.ok()) {
    std::fprintf(stderr, "nds demo: %s\n", s.message().c_str());
    cluster.StopAll(kStopGrace);
    return 1;
  }
  PrintGuide(cluster, f);

  int sig = launcher::WaitForStopSignal();
  std::printf("nds demo: signal %d: stopping every node\n", sig);
  std::fflush(stdout);
  cluster.StopAll(kStopGrace);
  std::printf("nds demo: stopped; the data stays in %s (run 'nds demo' again to restart)\n",
              f.data.c_str());
  return 0;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  auto* demo = app.add_subcommand(
      "demo", "Run a local cluster of nodes in the foreground until SIGINT/SIGTERM");
  demo->add_option("--nodes", flags->nodes, "How many nodes")
      ->capture_default_str()
      ->check(WholeInRange(1, kNodesMax));
  demo->add_option("--data", flags->data,
                   "Directory of the nodes' data (node<i> and node<i>.log); reused if present")
      ->capture_default_str();
  demo->add_option("--api-port", flags->api_port,
                   "API port of node1; node i uses api-port + 10*(i-1), its peer port one above")
      ->capture_default_str()
      ->check(WholeInRange(1, 65535));
  demo->add_option("--engine", flags->engine, "Storage engine of every node")
      ->capture_default_str()
      ->check(CLI::IsMember({"rocksdb", "memory"}));
  AddLogFlags(demo, &flags->log);  // the nodes' logs (node<i>.log)
  demo->callback([flags] {
    launcher::BlockStopSignals();  // before any thread starts: only sigwait sees them
    std::exit(RunDemo(*flags));
  });
}

}  // namespace nds::cli

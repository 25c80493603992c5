// `nds start`: the composition root of a node. Declares its flags (every Limits field is one, in
// start_flags.cc), checks the ones that need no resource, blocks the stop signals, and hands the
// flags to RunNode (start_node.cc), which runs the node until SIGTERM or SIGINT.
#include "cli/start_command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <signal.h>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/flag_range.h"
#include "cli/log_setup.h"
#include "cli/start_flags.h"
#include "cli/start_identity.h"
#include "cli/start_run.h"
#include "cli/tls_flags.h"
#include "launcher/stop_signals.h"
#include "loadgen/bench_options.h"

namespace nds::cli {
namespace {

constexpr uint64_t kIoThreadsMax = 64;
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
                    "Without --auth anyone who reaches it may read and write (docs/resp.md)");
  start->add_option("--resp-threads", flags->resp_threads, "Threads serving RESP")
      ->capture_default_str()
      ->check(WholeInRange(1, kIoThreadsMax));
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

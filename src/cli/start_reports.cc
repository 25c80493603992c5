// See start_reports.h.
#include "cli/start_reports.h"

#include <chrono>
#include <string_view>

#include <spdlog/spdlog.h>

#include "store/auth_state.h"
#include "store/keyspace.h"

namespace nds::cli {
namespace {

// True for an API host only this machine can reach: 127.0.0.0/8, ::1 or localhost.
bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

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

// Whether the applied state says the cluster requires tokens (false when not known yet).
bool ClusterRequiresTokens(const engine::Engine& engine) {
  auto mode = engine.Get(store::SystemKey(store::kAuthModeKey));
  return mode.ok() && mode->has_value();
}

// The API is protected when only this machine can reach it, or when requests need a token.
// (Other protections, such as TLS client certificates, join this test as they are built.)
void WarnIfExposed(const std::string& api_host, bool tokens_required, bool tls,
                   bool client_certificates_required) {
  if (IsLoopbackHost(api_host) || tokens_required || client_certificates_required) return;
  if (tls) {
    spdlog::warn(
        "the API listens on {} beyond loopback with TLS but without authentication: traffic is "
        "encrypted, yet anyone who can reach it can read, write and wipe the store and change "
        "the cluster (make the cluster with --auth, or require client certificates with "
        "--tls-client-ca)",
        api_host);
    return;
  }
  spdlog::warn(
      "the API listens on {} beyond loopback with neither TLS nor authentication: anyone who can "
      "reach it can read, write and wipe the store and change the cluster, and anyone on the "
      "path reads every value (a node that joined an --auth cluster enforces tokens once it has "
      "caught up; otherwise make the cluster with --auth, and serve HTTPS with --tls-cert)",
      api_host);
}

}  // namespace nds::cli

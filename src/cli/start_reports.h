// What `nds start` tells the operator while it runs: the warning for an API that anyone can reach,
// and a joining node's catch-up progress.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "node/node.h"

namespace nds::cli {

// Logs a joining node's progress (applied of committed) once a second until it is a caught-up
// voter, `*stop` is set, or an hour has passed.
std::thread StartJoinProgress(const node::Node* n, std::atomic<bool>* stop);

// Whether the applied state says the cluster requires tokens (false when not known yet).
bool ClusterRequiresTokens(const engine::Engine& engine);

// Warns (once, in the log) when the API on `api_host` is reachable beyond loopback and neither
// tokens nor client certificates protect it.
void WarnIfExposed(const std::string& api_host, bool tokens_required, bool tls,
                   bool client_certificates_required);

}  // namespace nds::cli
